// `checker serve`'s HTTP server: the page (three files bundled at install time, held in memory) and
// the API. Nothing else is served: a path is looked up in a fixed table, never joined onto a folder,
// so `../` leads nowhere. Every refusal is a 4xx with a JSON error; an error inside a handler is a 500
// with a JSON error, and the server goes on.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { Api } from './api.js';
import { RequestError, type ServerVariant } from './targets.js';

/** Where `npm run build` puts the bundled page. */
export function pageDir(): string {
  return join(packageRoot(), 'dist', 'serve-page');
}

/** Request bodies larger than this are refused (a dropped trace of 200 steps is well under 1 MiB). */
export const MAX_BODY_BYTES = 16 << 20;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>checker serve</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/main.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/main.js"></script>
</body>
</html>
`;

interface Asset {
  type: string;
  body: Buffer;
}

/** The page's files, read once: a missing bundle is found at start-up, not on the first request. */
export function loadPage(dir: string = pageDir()): Map<string, Asset> {
  const read = (name: string) => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new PageMissingError(`the page is not built (${file} is missing): run npm run build`);
    return readFileSync(file);
  };
  const html: Asset = { type: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) };
  return new Map([
    ['/', html],
    ['/index.html', html],
    ['/main.js', { type: 'text/javascript; charset=utf-8', body: read('main.js') }],
    ['/main.css', { type: 'text/css; charset=utf-8', body: read('main.css') }],
  ]);
}

export class PageMissingError extends Error {
  override name = 'PageMissingError';
}

/** The port is taken, or the address cannot be bound: one line for the user. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export interface ServeOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  traceDir: string | null;
  variants: readonly ServerVariant[];
  /** Where an internal error is reported (one line each); default: nowhere. */
  log?: (line: string) => void;
}

export interface Serving {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  'referrer-policy': 'no-referrer',
} as const;

function sendJson(res: ServerResponse, status: number, v: unknown): void {
  const body = JSON.stringify(v);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The body as text. One that is too large is refused once it has been read to its end (answering
 * while the client still writes would cut the answer off), or cut at four times the limit.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
      else if (size > 4 * MAX_BODY_BYTES) req.destroy();
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? fail(new RequestError(413, `the body is larger than ${MAX_BODY_BYTES >> 20} MiB`)) : done(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', fail);
    req.on('close', () => fail(new RequestError(400, 'the request ended before its body')));
  });
}

/** Starts the server; resolves once it listens (ListenError when it cannot). */
export async function startServer(o: ServeOptions): Promise<Serving> {
  const assets = loadPage();
  const api = new Api(o.traceDir, o.variants);
  const guardHost = isLoopback(o.host);
  let port = o.port;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      // the target is a path: joined onto a fixed origin, `//x` stays a path instead of naming a host
      const target = req.url ?? '/';
      url = new URL(`http://server.invalid${target.startsWith('/') ? '' : '/'}${target}`);
    } catch {
      return sendJson(res, 400, { error: 'the request target is not a URL path' });
    }
    // A raw path with a dot segment is refused outright, before URL parsing could fold it away.
    const raw = (req.url ?? '/').split('?')[0]!;
    if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(raw) || raw.includes('\\') || /%2f|%5c/i.test(raw)) {
      return sendJson(res, 404, { error: `no such path: ${raw.slice(0, 200)}` });
    }
    // Bound to a loopback address, the server answers only requests that name it by one: a web page
    // elsewhere cannot reach it through a DNS name of its own (rebinding).
    if (guardHost) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) return sendJson(res, 403, { error: `the server answers only requests to a loopback address, not ${JSON.stringify(req.headers.host ?? '')}` });
    }
    if (url.pathname.startsWith('/api/')) {
      const body = method === 'POST' ? await readBody(req) : '';
      const out = await api.handle({ method, path: url.pathname, query: url.searchParams, body });
      return sendJson(res, out.status, out.json);
    }
    const asset = assets.get(url.pathname);
    if (!asset) return sendJson(res, 404, { error: `no such path: ${url.pathname.slice(0, 200)}` });
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: `${method} is not allowed on ${url.pathname}` });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length });
    res.end(method === 'HEAD' ? undefined : asset.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof RequestError) return sendJson(res, e.status, { error: e.message });
      const first = String((e as Error)?.message ?? e).split('\n')[0];
      o.log?.(`checker serve: internal error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? first}`);
      sendJson(res, 500, { error: `internal error: ${first}` });
    });
  });
  // A malformed request never reaches the handler: answer it and keep serving.
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"malformed request"}');
    else socket.destroy();
  });

  await new Promise<void>((done, fail) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new ListenError(`--port ${o.port}: the port is in use on ${o.host} (choose another, or --port 0 for any free one)`));
      else if (e.code === 'EACCES') fail(new ListenError(`--port ${o.port}: not allowed to listen on this port (choose one above 1023)`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') fail(new ListenError(`--host ${o.host}: not an address of this machine`));
      else fail(new ListenError(`cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`));
    };
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      done();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
