// The admin HTTP interface: health, readiness, Prometheus metrics and debug dumps.
//
// It binds to 127.0.0.1 by default and has no authentication: /debug shows the whole
// configuration (with private keys and passwords redacted). Exposing it beyond
// localhost must be a deliberate operator choice (an explicit `--admin-host` style
// flag, or a port-forward / authenticating proxy in front), never a default.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Diagnostic, Level } from '../diagnostics.js';
import { formatDiagnostic, sortDiagnostics } from '../diagnostics.js';
import type { Logger } from '../log.js';
import { redactJson, redactResources } from '../translate/redact.js';
import type { EnvoyResources } from '../translate/resources.js';
import { resourceName } from '../translate/resources.js';
import type { Json, JsonObject } from '../xds/encode.js';
import { SHORT_NAMES, TYPE_URLS, isTypeUrl, type TypeUrl } from '../xds/type-urls.js';
import type { Metrics, ShortType } from './metrics.js';
import type { AdminState } from './state.js';

export const DEFAULT_ADMIN_HOST = '127.0.0.1';

/** What /debug/proxies needs of the proxy registry (xds/proxies.ts): any object with list(). */
export interface ProxiesView {
  list(): readonly unknown[];
}

export interface AdminOptions {
  /** Default 127.0.0.1. Anything else exposes unauthenticated debug dumps: make it a deliberate flag. */
  host?: string;
  /** 0 picks an ephemeral port (the returned handle says which). */
  port: number;
  state: AdminState;
  metrics: Metrics;
  proxies: ProxiesView;
  logger?: Logger;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const FIELDS: Record<ShortType, keyof EnvoyResources> = {
  lds: 'listeners',
  rds: 'routes',
  srds: 'scopedRoutes',
  cds: 'clusters',
  eds: 'endpoints',
  sds: 'secrets',
};
const BY_SHORT = Object.fromEntries(TYPE_URLS.map((t) => [SHORT_NAMES[t], t])) as Record<ShortType, TypeUrl>;

/** Scrapes and probes arrive every few seconds: log them at debug; errors stay errors. */
class QuietRequests extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/** Builds the fastify app without listening (tests use `inject`). */
export function buildAdminApp(opts: Omit<AdminOptions, 'host' | 'port'>): FastifyInstance {
  const { state, metrics, proxies } = opts;
  const app: FastifyInstance = opts.logger
    ? (Fastify({ loggerInstance: opts.logger, logController: new QuietRequests() }) as unknown as FastifyInstance)
    : Fastify({ logger: false });

  app.get('/', async (_req, reply) =>
    sendJson(reply, 200, {
      endpoints: ['/healthz', '/readyz', '/metrics', '/debug/snapshot', '/debug/proxies', '/debug/diagnostics'],
    }),
  );

  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (state.isReady()) return sendJson(reply, 200, { status: 'ready' });
    const groups = Object.keys(state.snapshots());
    const reason =
      groups.length === 0
        ? 'no complete snapshot has been published yet'
        : `snapshots are published (${groups.sort().join(', ')}) but sources have not synced yet`;
    return sendJson(reply, 503, { status: 'not ready', reason });
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.text();
    return reply.code(200).header('content-type', metrics.contentType).send(text);
  });

  app.get<{ Querystring: { group?: string | string[]; type?: string | string[] } }>(
    '/debug/snapshot',
    async (req, reply) => {
      const snapshots = state.snapshots();
      const resources = state.resources() ?? {};
      const all = [...new Set([...Object.keys(snapshots), ...Object.keys(resources)])].sort();

      const groupFilter = listParam(req.query.group);
      const unknownGroups = groupFilter?.filter((g) => !all.includes(g)) ?? [];
      if (unknownGroups.length > 0) {
        return sendJson(reply, 404, { error: `no such group: ${unknownGroups.join(', ')}`, groups: all });
      }
      const types: ShortType[] = [];
      for (const t of listParam(req.query.type) ?? TYPE_URLS.map((u) => SHORT_NAMES[u])) {
        const short = t in BY_SHORT ? (t as ShortType) : isTypeUrl(t) ? SHORT_NAMES[t] : undefined;
        if (!short) {
          return sendJson(reply, 400, {
            error: `unknown type: ${t}`,
            types: Object.keys(BY_SHORT),
          });
        }
        if (!types.includes(short)) types.push(short);
      }

      const groups: Record<string, unknown> = {};
      for (const group of groupFilter ?? all) {
        const snap = snapshots[group];
        const res = resources[group];
        const redacted = res ? redactResources(res) : undefined;
        const out: Record<string, unknown> = {};
        for (const short of types) {
          const typeUrl = BY_SHORT[short];
          const typeSnap = snap?.types[typeUrl];
          const byName = new Map<string, JsonObject>();
          for (const r of redacted?.[FIELDS[short]] ?? []) {
            // redactResources covers secrets; the rest pass redactJson too, in case a
            // translator ever inlines a key or password elsewhere.
            byName.set(resourceName(r), redactJson(r) as JsonObject);
          }
          const names = [...new Set([...byName.keys(), ...(typeSnap?.resources.keys() ?? [])])].sort();
          out[short] = {
            typeUrl,
            version: typeSnap?.version ?? null,
            count: names.length,
            resources: names.map((name) => ({
              name,
              version: typeSnap?.resources.get(name)?.version ?? null,
              resource: byName.get(name) ?? null,
            })),
          };
        }
        groups[group] = { version: snap?.version ?? null, types: out };
      }
      return sendJson(reply, 200, { groups });
    },
  );

  app.get('/debug/proxies', async (_req, reply) => {
    const list = proxies.list();
    // Node metadata is whatever the proxy sent: redact secret-looking keys there too.
    const json = JSON.parse(JSON.stringify(list, jsonReplacer) ?? '[]') as Json;
    return sendJson(reply, 200, { count: list.length, proxies: redactJson(json) });
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/debug/diagnostics',
    async (req, reply) => {
      const q = req.query;
      const filters: Array<[string[] | undefined, (d: Diagnostic) => string]> = [
        [listParam(q['namespace']), (d) => d.object.namespace],
        [listParam(q['name']), (d) => d.object.name],
        [listParam(q['kind']), (d) => d.object.kind],
        [listParam(q['code']), (d) => d.code],
        [listParam(q['level']), (d) => d.level],
      ];
      const ds = sortDiagnostics(state.diagnostics()).filter((d) => filters.every(([want, get]) => !want || want.includes(get(d))));
      const byLevel: Record<Level, number> = { error: 0, warning: 0 };
      const byCode: Record<string, number> = {};
      for (const d of ds) {
        byLevel[d.level]++;
        byCode[d.code] = (byCode[d.code] ?? 0) + 1;
      }
      return sendJson(reply, 200, {
        counts: { total: ds.length, ...byLevel, byCode },
        diagnostics: ds.map((d) => ({ ...d, text: formatDiagnostic(d) })),
      });
    },
  );

  return app;
}

/** Starts the admin server. Binds 127.0.0.1 unless `host` says otherwise (see the note at the top). */
export async function startAdmin(opts: AdminOptions): Promise<AdminServer> {
  const host = opts.host ?? DEFAULT_ADMIN_HOST;
  const app = buildAdminApp(opts);
  await app.listen({ host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  opts.logger?.info({ host, port }, 'admin server listening');
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    close: () => (closing ??= app.close().then(() => undefined)),
  };
}

/** `?x=a,b&x=c` → ['a', 'b', 'c']; absent or empty → undefined. */
function listParam(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/** Indented JSON (readable with curl); Maps, Sets, bigints and byte arrays made JSON-friendly. */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body, jsonReplacer, 2) + '\n');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}
