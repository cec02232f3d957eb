/**
 * A forward proxy that implements only CONNECT tunnels (what undici's ProxyAgent uses), recording
 * the targets, so that HTTP(S)_PROXY / NO_PROXY handling can be observed against real registries.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Hookable } from './cleanup.js';
import { LOOPBACK } from './ports.js';

export interface ConnectProxy {
  url: string;
  /** host:port of every CONNECT seen */
  tunnels: string[];
  stop(): Promise<void>;
}

export async function startConnectProxy(t?: Hookable): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405).end('only CONNECT');
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(stop);
  return { url: `http://${LOOPBACK}:${port}`, tunnels, stop };
}
