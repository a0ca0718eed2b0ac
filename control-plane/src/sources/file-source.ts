// The embedded default source: a folder of Kubernetes YAML manifests, watched for
// changes. A file that stops parsing keeps its last good objects (with a diagnostic),
// so a half-saved edit never takes routes away.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import type { WatchedObject } from './k8s-types.js';
import { WATCHED_KINDS } from './k8s-types.js';
import { parseManifests } from './manifests.js';
import { objectKey, type Store } from './store.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

interface FileState {
  readonly stamp: string;
  readonly objects: readonly WatchedObject[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads a file or a folder (recursively) of manifests once. */
export async function readManifests(target: string): Promise<{ objects: WatchedObject[]; diagnostics: Diagnostic[] }> {
  const files = await listFiles(target);
  const objects: WatchedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const f of files) {
    const r = parseManifests(await readFile(f, 'utf8'), path.relative(process.cwd(), f) || f);
    objects.push(...r.objects);
    diagnostics.push(...r.diagnostics);
  }
  return dedupe(objects, diagnostics);
}

export async function listFiles(target: string): Promise<string[]> {
  const st = await stat(target);
  if (st.isFile()) return [target];
  const out: string[] = [];
  const entries = await readdir(target, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    if (!EXTENSIONS.has(path.extname(e.name))) continue;
    const dir = (e as unknown as { parentPath?: string; path?: string }).parentPath ?? (e as unknown as { path: string }).path;
    out.push(path.join(dir, e.name));
  }
  return out.sort();
}

async function listDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join((e as unknown as { parentPath?: string; path?: string }).parentPath ?? (e as unknown as { path: string }).path, e.name));
}

function dedupe(objects: WatchedObject[], diagnostics: Diagnostic[]): { objects: WatchedObject[]; diagnostics: Diagnostic[] } {
  const seen = new Map<string, WatchedObject>();
  for (const o of objects) {
    const key = `${o.kind}/${objectKey(o)}`;
    if (seen.has(key)) {
      diagnostics.push({
        code: 'XG_MANIFEST_DUPLICATE',
        level: 'error',
        object: { kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name },
        message: `${o.kind} ${objectKey(o)} appears more than once; the first one (in file order) is used`,
      });
      continue;
    }
    seen.set(key, o);
  }
  return { objects: [...seen.values()], diagnostics };
}

export interface FileSourceOptions {
  readonly dir: string;
  readonly store: Store;
  /** Called with the source's own diagnostics (YAML errors, unknown kinds) after every scan. */
  readonly onDiagnostics?: (diagnostics: readonly Diagnostic[]) => void;
  readonly onError?: (err: Error) => void;
  /** Quiet time after a file event before the folder is re-read. */
  readonly settleMs?: number;
  /** Poll interval as a safety net for file systems whose events are unreliable. */
  readonly pollMs?: number;
}

export class FileSource {
  private readonly files = new Map<string, FileState>();
  /** One non-recursive watcher per folder: Node's recursive watch on Linux loses a file replaced by rename. */
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private closed = false;

  constructor(private readonly opts: FileSourceOptions) {}

  /** Reads the folder once (the initial sync), then watches it. */
  async start(): Promise<void> {
    await this.scan();
    await this.watchFolders();
    this.poller = setInterval(() => this.schedule(), this.opts.pollMs ?? 2000);
    this.poller.unref();
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
  }

  /** Watches the root and every folder below it; stops watching folders that are gone. */
  private async watchFolders(): Promise<void> {
    if (this.closed) return;
    const dirs = new Set([this.opts.dir, ...(await listDirs(this.opts.dir))]);
    for (const [dir, w] of this.watchers) {
      if (!dirs.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, () => this.schedule());
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // removed meanwhile; the next scan settles it
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.scan().catch((e) => this.opts.onError?.(e as Error)), this.opts.settleMs ?? 10);
  }

  /** Re-reads changed files and replaces the store's content. Serialised. */
  async scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        await this.scanOnce();
        if (this.watchers.size) await this.watchFolders();
      } while (this.rescan && !this.closed);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const files = await listFiles(this.opts.dir);
    const present = new Set(files);
    let changed = false;
    for (const f of [...this.files.keys()]) {
      if (!present.has(f)) {
        this.files.delete(f);
        changed = true;
      }
    }
    for (const f of files) {
      let st;
      try {
        st = await stat(f);
      } catch {
        continue; // removed between listing and stat
      }
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      const prev = this.files.get(f);
      if (prev?.stamp === stamp) continue;
      const text = await readFile(f, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const r = parseManifests(text, path.relative(this.opts.dir, f));
      // A file that no longer parses keeps its last good objects.
      const objects = r.parsed || !prev ? r.objects : prev.objects;
      this.files.set(f, { stamp, objects, diagnostics: r.diagnostics });
      changed = true;
    }
    if (!changed && this.files.size > 0) return;
    const all: WatchedObject[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const f of [...this.files.keys()].sort()) {
      all.push(...this.files.get(f)!.objects);
      diagnostics.push(...this.files.get(f)!.diagnostics);
    }
    const d = dedupe(all, diagnostics);
    this.opts.onDiagnostics?.(d.diagnostics);
    this.opts.store.replace(d.objects, WATCHED_KINDS);
  }
}
