// `checker serve`'s HTTP server: the page (three files bundled at install time, held in memory) and
// the API. Nothing else is served: a path is looked up in a fixed table, never joined onto a folder,
// so `../` leads nowhere. Every refusal is a 4xx with a JSON error; an error inside a handler is a 500
// with a JSON error, and the server goes on.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
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
  /** Distinct states a search from the page may store before it stops (`checker serve --max-states`). */
  maxStates?: number;
  /** Where an internal error is reported (one line each); default: nowhere. */
  log?: (line: string) => void;
}

export interface Serving {
  url: string;
  port: number;
  server: Server;
  api: Api;
  /** The Host headers the server answers (`name:port`, lower case). */
  hosts: ReadonlySet<string>;
  close(): Promise<void>;
}

/** 127.0.0.1 (any of 127.0.0.0/8), ::1 and localhost: addresses no other machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** An address that listens on every interface. */
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';

/** An address as a Host header names it: IPv6 in brackets, lower case. */
const hostName = (a: string) => (a.includes(':') && !a.startsWith('[') ? `[${a}]` : a).toLowerCase();

/**
 * The Host headers the server answers: the address it was given and the one it bound, `localhost`,
 * and on a wildcard address every address of the machine and its host name; each with the port
 * (and bare on port 80, where browsers leave the port out). Any other name is refused: a web page
 * elsewhere reaches the server through a DNS name of its own only by DNS rebinding.
 */
export function allowedHosts(given: string, bound: string, port: number, interfaces = networkInterfaces(), host = hostname()): Set<string> {
  const names = new Set<string>(['localhost', hostName(given), hostName(bound)]);
  if (isWildcard(given)) {
    for (const list of Object.values(interfaces)) for (const i of list ?? []) names.add(hostName(i.address.replace(/%.*$/, '')));
    names.add(host.toLowerCase());
  }
  const out = new Set<string>();
  for (const n of names) {
    if (n === '' || isWildcard(n)) continue;
    out.add(`${n}:${port}`);
    if (port === 80) out.add(n);
  }
  return out;
}

/** What `--host` other than loopback means, for the person who started the server (one line). */
export function exposureWarning(host: string, hosts: ReadonlySet<string>): string | null {
  if (isLoopback(host)) return null;
  return (
    `checker serve: warning: --host ${host} is reachable from other machines: anyone who can reach it can read the trace folder and run searches; ` +
    `requests must name the server as one of ${[...hosts].sort().join(', ')}`
  );
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
 * Why an API request is not the page's own, or null. The API answers only its own page: a browser
 * marks a request another site makes (Sec-Fetch-Site, Origin), and a page elsewhere can POST without
 * a preflight only as text/plain or a form, never as JSON. So a POST must be JSON, and a request a
 * browser says comes from elsewhere is refused. (A per-run token the page carries would also do, but
 * would make a link to a view die with the server that gave it.) A client that is not a browser sends
 * neither header, and is no web page.
 */
export function crossSiteRefusal(req: IncomingMessage): RequestError | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return new RequestError(403, `the API answers only its own page, not a request from another site (Sec-Fetch-Site: ${site})`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
    return new RequestError(403, `the API answers only its own page, not a request from ${JSON.stringify(origin.slice(0, 100))}`);
  }
  if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    return new RequestError(415, `a POST to the API must be JSON (Content-Type: application/json), not ${JSON.stringify((req.headers['content-type'] ?? 'none').slice(0, 100))}`);
  }
  return null;
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

/**
 * A search's progress as lines of JSON (application/x-ndjson), when the client asks for them: one
 * line at the start and about every quarter second, then the result (or an error) as the last line.
 */
class ProgressStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}
  line(v: unknown): void {
    if (this.res.destroyed) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/x-ndjson; charset=utf-8' });
    }
    this.res.write(JSON.stringify(v) + '\n');
  }
  get open(): boolean {
    return this.started;
  }
  end(v: unknown): void {
    this.line(v);
    this.res.end();
  }
}

/** Starts the server; resolves once it listens (ListenError when it cannot). */
export async function startServer(o: ServeOptions): Promise<Serving> {
  const assets = loadPage();
  const api = new Api(o.traceDir, o.variants, { maxStates: o.maxStates });
  // known once the server listens (--port 0 picks the port then)
  let hosts: ReadonlySet<string> = new Set();

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
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) {
      return sendJson(res, 403, { error: `the server answers only requests that name it as ${[...hosts].sort().join(' or ')}, not ${JSON.stringify((req.headers.host ?? '').slice(0, 100))}` });
    }
    if (url.pathname.startsWith('/api/')) {
      const refused = crossSiteRefusal(req);
      if (refused) throw refused;
      const body = method === 'POST' ? await readBody(req) : '';
      // a client that goes away (a closed tab, a cancelled search) stops the work done for it
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const stream = /application\/x-ndjson/.test(req.headers.accept ?? '') ? new ProgressStream(res) : null;
      try {
        const out = await api.handle({ method, path: url.pathname, query: url.searchParams, body, signal: gone.signal, progress: stream ? (p) => stream.line({ progress: p }) : undefined });
        if (stream?.open) return stream.end(out.status === 200 ? { result: out.json } : out.json);
        return sendJson(res, out.status, out.json);
      } catch (e) {
        // once progress lines went out the status is sent: the error is the last line
        if (!stream?.open) throw e;
        stream.end({ error: e instanceof RequestError ? e.message : `internal error: ${String((e as Error)?.message ?? e).split('\n')[0]}` });
        if (!(e instanceof RequestError)) o.log?.(`checker serve: internal error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
        return;
      }
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
  const address = server.address() as AddressInfo;
  const port = address.port;
  hosts = allowedHosts(o.host, address.address, port);
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    server,
    api,
    hosts,
    close: () =>
      new Promise<void>((done) => {
        // a search under way stops at its next poll (a tenth of a second) instead of running to its end
        api.stop();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
