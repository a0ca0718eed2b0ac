// Free TCP ports for tests: bind port 0, read the port, close. Another process may take
// the port before it is used; prefer port 0 where the code under test can report its
// real port (Envoy admin, backends), and use these where it cannot (xDS listeners).
import net from 'node:net';

function listenEphemeral(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => resolve(srv));
  });
}

const close = (srv: net.Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port as number;
}

/** `n` distinct free ports (all bound at once before any is released). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenEphemeral(host));
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map(close));
  }
}
