/**
 * A reverse proxy in front of a test registry that misbehaves on purpose: it answers some
 * requests with an error status (503, 429 with Retry-After), or corrupts blob bodies while keeping
 * their length, so that tests can watch retries and digest verification against a real registry.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from './ports.js';
import type { Hookable } from './cleanup.js';

export interface Fault {
  /** which requests: method and a regexp on the path */
  method?: string;
  path: RegExp;
  /** answer with this status instead of forwarding (e.g. 503, 429) */
  status?: number;
  retryAfter?: number;
  /** forward, but flip a byte in the middle of the response body */
  corrupt?: boolean;
  /** forward, but cut the response body after this many bytes and drop the connection */
  truncateAfter?: number;
  /** how many matching requests to affect; Infinity for all */
  times: number;
}

export interface FaultProxy {
  /** 127.0.0.1:<port> */
  host: string;
  faults: Fault[];
  /** method + path of every request seen */
  seen: string[];
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string, faults: Fault[], t?: Hookable): Promise<FaultProxy> {
  const [upHost, upPort] = upstream.split(':');
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const fault = faults.find((f) => f.times > 0 && (!f.method || f.method === req.method) && f.path.test(req.url ?? ''));
    if (fault) fault.times--;
    if (fault?.status) {
      req.resume();
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter !== undefined && { 'retry-after': String(fault.retryAfter) }),
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] }));
      return;
    }
    const up = httpRequest(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (!fault?.corrupt && fault?.truncateAfter === undefined) {
          upRes.pipe(res);
          return;
        }
        const length = Number(upRes.headers['content-length'] ?? 0);
        let offset = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (fault.truncateAfter !== undefined && offset + chunk.length > fault.truncateAfter) {
            res.write(chunk.subarray(0, Math.max(0, fault.truncateAfter - offset)));
            res.socket?.destroy();
            upRes.destroy();
            return;
          }
          const middle = Math.floor(length / 2);
          if (fault.corrupt && middle >= offset && middle < offset + chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[middle - offset] = chunk[middle - offset]! ^ 0xff;
          }
          offset += chunk.length;
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(stop);
  return { host: `${LOOPBACK}:${port}`, faults, seen, stop };
}
