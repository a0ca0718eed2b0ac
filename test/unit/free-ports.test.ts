import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/free-ports.js';

const ephemeralStart = (): number | undefined => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
};

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });

describe('freePorts (scripts/free-ports.ts)', () => {
  it('gives distinct ports, free once released, below the ephemeral range that port-0 binds draw from', async () => {
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    for (const p of ports) expect(await bindable(p)).toBe(true);
    const start = ephemeralStart();
    if (start !== undefined && start - 10_000 >= 1_000) for (const p of ports) expect(p).toBeLessThan(start);
  });

  it('never gives a port held by a listener', async () => {
    const held = await freePorts(1);
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen({ host: '127.0.0.1', port: held[0] }, resolve));
    try {
      for (let i = 0; i < 20; i++) expect(await freePorts(4)).not.toContain(held[0]);
    } finally {
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});
