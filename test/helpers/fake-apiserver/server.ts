// The stand-in API server: node:http speaking the parts of the Kubernetes API that
// @kubernetes/client-node uses for xgate's kinds — list (resourceVersion, limit and
// continue), watch (chunked newline-delimited JSON events, bookmarks, 410 Expired as an
// ERROR event), get, create, update, patch, delete, the status subresource — with
// controls for tests: drop watch connections, compact history, inject latency, outage.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyPatch, PatchError } from './patch.js';
import { apiVersionOf, parsePath, resourceByKind, type ParsedPath, type ResourceType } from './resources.js';
import { fieldSelector, labelSelector, SelectorError, type Matcher } from './selectors.js';
import { ApiError, badRequest, expired, notFound, statusObject } from './status.js';
import { Storage, type Change, type Obj } from './storage.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface RecordedRequest {
  readonly method: string;
  readonly verb: Verb | undefined;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly resource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
  status: number;
  readonly at: number;
}

export interface LatencyRule {
  readonly ms: number;
  readonly verbs?: readonly Verb[];
  /** Plural resource name, e.g. `ingresses`. */
  readonly resource?: string;
}

export interface FakeApiServerOptions {
  /** Interval of BOOKMARK events on watches that ask for them (default 1,000 ms). */
  readonly bookmarkIntervalMs?: number;
  /** Changes retained for watches to resume from (default 10,000). */
  readonly maxHistory?: number;
}

interface OpenWatch {
  readonly res: http.ServerResponse;
  readonly timers: NodeJS.Timeout[];
  unsubscribe(): void;
}

const JSON_TYPE = 'application/json';

export class FakeApiServer {
  readonly storage: Storage;
  private readonly server: http.Server;
  private readonly watches = new Set<OpenWatch>();
  private readonly log: RecordedRequest[] = [];
  private latency: LatencyRule[] = [];
  private down = false;
  private port_ = 0;

  private constructor(private readonly opts: FakeApiServerOptions) {
    this.storage = new Storage(opts.maxHistory ?? 10_000);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, '127.0.0.1', () => resolve());
    });
    s.port_ = (s.server.address() as AddressInfo).port;
    return s;
  }

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port_}`;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- objects, for tests (no admission: status and all fields are taken as given) ----

  /** Creates the object, or replaces it (ignoring resourceVersion), status included. */
  apply<T extends object>(obj: T): Obj {
    const o = obj as Obj;
    const res = this.typeOf(o);
    const ns = res.namespaced ? (o['metadata']?.['namespace'] ?? 'default') : undefined;
    const name = o['metadata']?.['name'];
    const body = { ...o, metadata: { ...o['metadata'], resourceVersion: undefined } };
    if (this.storage.get(res, ns, name)) return this.storage.update(res, ns, name, body, 'all');
    return this.storage.create(res, ns, body, { keepStatus: true });
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj {
    return this.storage.delete(this.type(apiVersion, kind), namespace, name);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.storage.get(this.type(apiVersion, kind), namespace, name);
  }

  list(apiVersion: string, kind: string, namespace?: string): Obj[] {
    return this.storage.list(this.type(apiVersion, kind), namespace);
  }

  // ---- controls ----

  /** Cuts every open watch: abruptly (socket destroyed, as on a network failure) or by ending the stream. */
  dropWatches(opts: { graceful?: boolean } = {}): number {
    const all = [...this.watches];
    for (const w of all) this.closeWatch(w, !opts.graceful);
    return all.length;
  }

  /** Forgets the change history: watches resuming from before now get 410 Expired. */
  compact(): void {
    this.storage.compact();
  }

  /** While on, every request gets 503 and open watches are cut. */
  outage(on: boolean): void {
    this.down = on;
    if (on) this.dropWatches();
  }

  setLatency(ms: number, filter: { verbs?: readonly Verb[]; resource?: string } = {}): void {
    this.latency.push({ ms, ...filter });
  }

  clearLatency(): void {
    this.latency = [];
  }

  openWatches(): number {
    return this.watches.size;
  }

  requests(filter: Partial<Pick<RecordedRequest, 'verb' | 'resource' | 'namespace' | 'name' | 'subresource' | 'method'>> = {}): RecordedRequest[] {
    return this.log.filter((r) => Object.entries(filter).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v));
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  /** A kubeconfig for this server (http, no auth; client-node requires insecure-skip-tls-verify for http). */
  kubeconfig(): string {
    return `apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster: { server: "${this.url}", insecure-skip-tls-verify: true }
users:
  - name: fake
    user: {}
contexts:
  - name: fake
    context: { cluster: fake, user: fake, namespace: default }
current-context: fake
`;
  }

  // ---- HTTP ----

  private type(apiVersion: string, kind: string): ResourceType {
    const t = resourceByKind(apiVersion, kind);
    if (!t) throw new Error(`the stand-in API server does not serve ${apiVersion} ${kind}`);
    return t;
  }

  private typeOf(o: Obj): ResourceType {
    return this.type(String(o['apiVersion']), String(o['kind']));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const parsed = parsePath(url.pathname);
    const verb = parsed ? verbOf(req.method ?? 'GET', parsed, query) : undefined;
    let body: unknown;
    let rawBody = '';
    try {
      rawBody = await readBody(req);
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = rawBody;
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      verb,
      path: url.pathname,
      query,
      resource: parsed?.type.resource,
      namespace: parsed?.namespace,
      name: parsed?.name,
      subresource: parsed?.subresource,
      contentType: req.headers['content-type'],
      body,
      status: 0,
      at: Date.now(),
    };
    this.log.push(rec);
    res.on('finish', () => (rec.status = res.statusCode));
    res.on('close', () => (rec.status ||= res.headersSent ? res.statusCode : 0));
    const delay = Math.max(0, ...this.latency.filter((l) => (!l.verbs || (verb && l.verbs.includes(verb))) && (!l.resource || l.resource === parsed?.type.resource)).map((l) => l.ms));
    if (delay) await new Promise((r) => setTimeout(r, delay));
    try {
      if (this.down) throw new ApiError(503, 'ServiceUnavailable', 'the stand-in API server is in an outage');
      if (url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      if (!parsed || !verb) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
      if (rawBody && typeof body === 'string') throw badRequest('the request body is not JSON');
      this.serve(verb, parsed, query, body as Obj | undefined, req, res);
      // A watch stays open: its status is known once the headers are out.
      if (res.headersSent) rec.status = res.statusCode;
    } catch (e) {
      this.fail(res, e);
    }
  }

  private fail(res: http.ServerResponse, e: unknown): void {
    const err =
      e instanceof ApiError
        ? e
        : e instanceof SelectorError
          ? badRequest(e.message)
          : e instanceof PatchError
            ? new ApiError(e.status, e.status === 415 ? 'UnsupportedMediaType' : e.status === 422 ? 'Invalid' : 'BadRequest', e.message)
            : new ApiError(500, 'BadRequest', String(e));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, err.code, err.toStatus());
  }

  private serve(verb: Verb, p: ParsedPath, query: Record<string, string>, body: Obj | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    const { type, namespace: ns } = p;
    if (p.subresource !== undefined && (p.subresource !== 'status' || !type.status)) throw new ApiError(404, 'NotFound', `${type.resource} has no subresource ${p.subresource}`);
    const needBody = () => {
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('a JSON object body is required');
      return body;
    };
    switch (verb) {
      case 'get': {
        const o = this.storage.get(type, ns, p.name!);
        if (!o) throw notFound(type, p.name!);
        return send(res, 200, o);
      }
      case 'list':
        return send(res, 200, this.listBody(type, ns, query));
      case 'watch':
        return this.watch(type, ns, query, res);
      case 'create':
        return send(res, 201, this.storage.create(type, ns, needBody()));
      case 'update':
        return send(res, 200, this.storage.update(type, ns, p.name!, needBody(), p.subresource === 'status' ? 'status' : 'main'));
      case 'patch': {
        const cur = this.storage.get(type, ns, p.name!);
        if (!cur) throw notFound(type, p.name!);
        const patched = applyPatch(req.headers['content-type'] ?? '', cur, body) as Obj;
        // A resourceVersion left in the patched object is a precondition (stale → 409).
        return send(res, 200, this.storage.update(type, ns, p.name!, patched, p.subresource === 'status' ? 'status' : 'main'));
      }
      case 'delete':
        return send(res, 200, this.storage.delete(type, ns, p.name!));
    }
  }

  private matcher(ns: string | undefined, query: Record<string, string>): Matcher {
    const f = fieldSelector(query['fieldSelector']);
    const l = labelSelector(query['labelSelector']);
    return (o) => (ns === undefined || (o as Obj)['metadata']?.['namespace'] === ns) && f(o) && l(o);
  }

  private listBody(type: ResourceType, ns: string | undefined, query: Record<string, string>): Obj {
    const match = this.matcher(ns, query);
    let items = this.storage.list(type, ns).filter(match);
    let rv = this.storage.currentRv();
    let start = '';
    if (query['continue']) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(query['continue'], 'base64url').toString('utf8')) as { rv: number; start: string };
      } catch {
        throw badRequest('invalid continue token');
      }
      if (token.rv < this.storage.compactedRv()) throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      rv = token.rv;
      start = token.start;
      items = items.filter((o) => keyOf(o) > start);
    }
    const limit = Number(query['limit'] ?? 0);
    const metadata: Obj = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      const rest = items.length - limit;
      items = items.slice(0, limit);
      metadata['continue'] = Buffer.from(JSON.stringify({ rv, start: keyOf(items[items.length - 1]!) })).toString('base64url');
      metadata['remainingItemCount'] = rest;
    }
    // The real server leaves kind and apiVersion off the items of a typed list.
    for (const o of items) {
      delete o['kind'];
      delete o['apiVersion'];
    }
    return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items };
  }

  private watch(type: ResourceType, ns: string | undefined, query: Record<string, string>, res: http.ServerResponse): void {
    const match = this.matcher(ns, query);
    const rvParam = query['resourceVersion'];
    let from: number | undefined;
    if (rvParam !== undefined && rvParam !== '' && rvParam !== '0') {
      from = Number(rvParam);
      if (!Number.isInteger(from)) throw badRequest(`invalid resourceVersion ${rvParam}`);
    }
    res.writeHead(200, { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const write = (type_: string, object: Obj) => res.write(`${JSON.stringify({ type: type_, object })}\n`);
    if (from !== undefined) {
      const changes = this.storage.changesSince(from);
      if (!changes) {
        write('ERROR', statusObject(410, 'Expired', `too old resource version: ${from} (${this.storage.compactedRv()})`));
        res.end();
        return;
      }
      for (const c of changes) this.emit(c, type, match, write);
    } else {
      for (const o of this.storage.list(type, ns).filter(match)) write('ADDED', o);
    }
    const w: OpenWatch = { res, timers: [], unsubscribe: this.storage.onChange((c) => this.emit(c, type, match, write)) };
    if (query['allowWatchBookmarks'] === 'true') {
      const t = setInterval(() => write('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(this.storage.currentRv()) } }), this.opts.bookmarkIntervalMs ?? 1000);
      w.timers.push(t);
    }
    const timeout = Number(query['timeoutSeconds'] ?? 0);
    if (timeout > 0) w.timers.push(setTimeout(() => this.closeWatch(w, false), timeout * 1000));
    this.watches.add(w);
    res.on('close', () => this.closeWatch(w, false));
  }

  /** Sends a change to one watch, turning selector transitions into ADDED/DELETED as the real server does. */
  private emit(c: Change, type: ResourceType, match: Matcher, write: (t: string, o: Obj) => void): void {
    if (c.res !== type) return;
    const now = match(c.obj);
    if (c.type === 'MODIFIED') {
      const before = c.prev ? match(c.prev) : false;
      if (before && now) write('MODIFIED', c.obj);
      else if (!before && now) write('ADDED', c.obj);
      else if (before && !now) write('DELETED', c.obj);
    } else if (now) write(c.type, c.obj);
  }

  private closeWatch(w: OpenWatch, abrupt: boolean): void {
    if (!this.watches.delete(w)) return;
    w.unsubscribe();
    for (const t of w.timers) clearTimeout(t);
    if (abrupt) w.res.socket?.destroy();
    else w.res.end();
  }
}

function keyOf(o: Obj): string {
  return `${o['metadata']?.['namespace'] ?? ''}/${o['metadata']?.['name']}`;
}

function verbOf(method: string, p: ParsedPath, query: Record<string, string>): Verb | undefined {
  const named = p.name !== undefined;
  switch (method) {
    case 'GET':
      if (named) return 'get';
      return query['watch'] === 'true' || query['watch'] === '1' ? 'watch' : 'list';
    case 'POST':
      return named ? undefined : 'create';
    case 'PUT':
      return named ? 'update' : undefined;
    case 'PATCH':
      return named ? 'patch' : undefined;
    case 'DELETE':
      return named ? 'delete' : undefined;
    default:
      return undefined;
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
