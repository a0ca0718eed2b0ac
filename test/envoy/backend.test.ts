// The example backend and the port helpers.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { request, startBackend, testBackend } from '../helpers/backends.js';
import { freePort, freePorts } from '../helpers/ports.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('startBackend', () => {
  it('answers every request with 200 and a JSON echo, on a 127.0.0.x address', async () => {
    const b = await testBackend({ name: 'v1', host: '127.0.0.2' });
    expect(b.host).toBe('127.0.0.2');
    expect(b.port).toBeGreaterThan(0);
    const r = await request(`${b.url}/some/path?q=1&r=%2F`, { method: 'POST', host: 'shop.example', headers: { 'x-a': 'b' }, body: 'hello' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.echo).toMatchObject({ backend: 'v1', method: 'POST', path: '/some/path?q=1&r=%2F', host: 'shop.example' });
    expect(r.echo?.headers['x-a']).toBe('b');
    expect(b.requests).toBe(1);
  });

  it('keeps connections alive (HTTP/1.1)', async () => {
    const b = await testBackend({ name: 'ka' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${b.url}/${i}`, { agent }, (res) => {
            ports.push(res.socket.localPort ?? -1);
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
    agent.destroy();
    expect(new Set(ports).size).toBe(1);
    expect(b.requests).toBe(3);
  });

  it('honours the opt-in x-backend-status and x-backend-delay-ms headers', async () => {
    const b = await testBackend({ name: 'knobs' });
    expect((await request(b.url, { headers: { 'x-backend-status': '503' } })).status).toBe(503);
    const t0 = Date.now();
    expect((await request(b.url, { headers: { 'x-backend-delay-ms': '150' } })).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('binds a given port and frees it on close', async () => {
    const port = await freePort('127.0.0.4');
    const b = await startBackend({ name: 'fixed', host: '127.0.0.4', port });
    expect(b.port).toBe(port);
    await b.close();
    await b.close(); // idempotent
    const again = await startBackend({ name: 'fixed-again', host: '127.0.0.4', port });
    await again.close();
  });

  it('runs from the command line: --name, --listen, prints its address, exits on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'scripts', 'example-backend.ts'), '--name', 'cli', '--listen', '127.0.0.3:0'], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
    });
    const info = JSON.parse(line) as { backend: string; listening: string };
    expect(info.backend).toBe('cli');
    expect(info.listening).toMatch(/^127\.0\.0\.3:\d+$/);
    const r = await request(`http://${info.listening}/x`);
    expect(r.echo?.backend).toBe('cli');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('ports', () => {
  it('freePorts returns distinct bindable ports', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    const b = await testBackend({ name: 'p', port: ports[0]! });
    expect(b.port).toBe(ports[0]);
  });
});
