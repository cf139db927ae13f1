// A registry that misbehaves on purpose, for tests of what skiff refuses: each path under /v2/ is
// answered by a handler the test sets (fixed documents, bodies that never end, odd media types),
// and every answer's sent bytes are counted, so a test can see that skiff hung up early.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './registry.js';

// A body that "never ends" stops here all the same: a skiff that failed to bound its read would
// otherwise take the machine's memory with it (8 GB in 35 s was seen). Far above any cap.
export const ENDLESS_CEILING = 256 * 1024 * 1024;

export type Handler = (req: IncomingMessage, res: ServerResponse, host: string) => void;

export interface HostileRegistry {
  host: string;
  /** Answers `path` (e.g. "/v2/x/manifests/latest", "/token") with `handler`. */
  route(path: string, handler: Handler): void;
  /** Bytes written for `path` so far (all requests). */
  sent(path: string): number;
  /** Requests for `path` so far. */
  hits(path: string): number;
  stop(): Promise<void>;
}

// Answers with `status`, `headers` and `body`.
export const fixed =
  (body: Buffer | string, headers: Record<string, string> = {}, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers }).end(body);
  };

// Answers with `head`, then `unit` again and again (chunked, no length) as fast as the client
// reads, until it hangs up or ENDLESS_CEILING bytes went out.
export const endless =
  (head: string, unit: string, headers: Record<string, string> = {}, status = 200): Handler =>
  (_req, res) => {
    const chunk = Buffer.from(unit.repeat(Math.max(1, Math.floor(65536 / unit.length))));
    let sent = 0;
    res.on('error', () => {});
    res.writeHead(status, headers);
    res.write(head);
    const pump = () => {
      while (!res.destroyed && sent < ENDLESS_CEILING) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };

export const startHostileRegistry = async (): Promise<HostileRegistry> => {
  const routes = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const hits = new Map<string, number>();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const write = res.write.bind(res);
    // Counts what the handler writes (end's last chunk too) for `sent`.
    const count = (data: unknown) => {
      if (typeof data === 'string' || Buffer.isBuffer(data)) counts.set(path, (counts.get(path) ?? 0) + Buffer.byteLength(data));
    };
    res.write = ((data: unknown, ...rest: never[]) => {
      count(data);
      return write(data as Buffer, ...rest);
    }) as typeof res.write;
    const handler =
      routes.get(path) ??
      (path === '/v2/' ? fixed('{}') : fixed(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: path }] }), { 'content-type': 'application/json' }, 404));
    handler(req, res, host);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host,
    route: (path, handler) => routes.set(path, handler),
    sent: (path) => counts.get(path) ?? 0,
    hits: (path) => hits.get(path) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
