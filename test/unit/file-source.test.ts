import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSource } from '../../control-plane/src/sources/file-source.js';
import { Store } from '../../control-plane/src/sources/store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const svc = (name: string, port: number) => `apiVersion: v1\nkind: Service\nmetadata: { name: ${name}, namespace: default }\nspec: { ports: [{ port: ${port} }] }\n`;

function atomicWrite(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function until(check: () => boolean, ms = 1500): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('not seen in time');
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

describe('the manifest folder source', () => {
  it('sees every edit by rename and in new subfolders from file events, well before its safety poll', async () => {
    const store = new Store();
    atomicWrite(path.join(dir, 'a.yaml'), svc('a', 1));
    const source = new FileSource({ dir, store, pollMs: 60_000 });
    await source.start();
    const port = (name: string) => store.snapshot().services.get(`default/${name}`)?.spec?.ports?.[0]?.port;
    expect(port('a')).toBe(1);
    for (let i = 2; i < 6; i++) {
      atomicWrite(path.join(dir, 'a.yaml'), svc('a', i));
      expect(await until(() => port('a') === i)).toBeLessThan(1000);
    }
    writeFileSync(path.join(dir, 'a.yaml'), svc('a', 9)); // in place, too
    await until(() => port('a') === 9);
    mkdirSync(path.join(dir, 'team'));
    await new Promise((r) => setTimeout(r, 100));
    atomicWrite(path.join(dir, 'team', 'b.yaml'), svc('b', 7));
    await until(() => port('b') === 7);
    atomicWrite(path.join(dir, 'team', 'b.yaml'), svc('b', 8));
    await until(() => port('b') === 8);
    rmSync(path.join(dir, 'team'), { recursive: true });
    await until(() => port('b') === undefined);
    source.close();
  });
});
