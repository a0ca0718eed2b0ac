// Free TCP ports for tests and benchmarks, for listeners whose port must be chosen before
// the process that binds them starts (Envoy's listeners, a control plane's xDS port).
// Where the code under test can report its real port (Envoy admin, backends), port 0 is
// better still.
//
// Ports are picked at random below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), each bound to check it is free, all held until
// every one is picked, then released. A port the kernel hands out for `bind(0)` or an
// outgoing connection comes from that range, so a port picked here is not taken by another
// test's Envoy admin, backend or client in the moment between its release and its use:
// with ports picked by `bind(0)` itself, that happened under parallel tests (an Envoy's
// admin on port 0 got the port just picked for its HTTP listener, which then failed to
// bind and was NACKed). Where the range starts too low to leave room, `bind(0)` is used.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux), or undefined. */
function ephemeralStart(): number | undefined {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** A server listening on `port` (0: an ephemeral one), or undefined when that port is taken. */
function listen(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (e: NodeJS.ErrnoException) => (port !== 0 && (e.code === 'EADDRINUSE' || e.code === 'EACCES') ? resolve(undefined) : reject(e)));
    srv.listen({ host, port, exclusive: true }, () => resolve(srv));
  });
}

const close = (srv: net.Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));

/** `n` distinct free ports on `host`, all bound at once before any is released. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  const portOf = (srv: net.Server): number => (srv.address() as net.AddressInfo).port;
  try {
    const end = ephemeralStart();
    if (end !== undefined && end - LOWEST >= 1_000) {
      for (let tries = 0; servers.length < n && tries < 50 * n; tries++) {
        const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
        if (servers.some((s) => portOf(s) === port)) continue;
        const srv = await listen(host, port);
        if (srv) servers.push(srv);
      }
    }
    while (servers.length < n) servers.push((await listen(host, 0))!);
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}
