// checker serve against pages that are not its own: Host names other than the server's (DNS
// rebinding) refused, the API answering only same-origin requests (a cross-origin POST of text/plain,
// another Origin, a browser's Sec-Fetch-Site), a search stopped when its client goes away and when
// the server stops, a listening address beyond loopback warned of and still guarded, and a folder
// listed from its files' first bytes (however large the files), cut at 1,000 names with the count said.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LISTED } from '../checker/serve/api.js';
import { HEAD_BYTES } from '../checker/serve/listing.js';
import type { TraceList } from '../checker/serve/protocol.js';
import { allowedHosts, startServer, type Serving } from '../checker/serve/server.js';
import { CLI, cli, ROOT } from './cli-run.js';
import { expectRefusal, JSON_TYPE, ndjson, rawRequest, SEED } from './serve-helpers.js';

let dir: string;
let traces: string;
let serving: Serving;
let traceText: string;
const raw = (method: string, path: string, body?: string, headers: Record<string, string> = {}) => rawRequest(serving.port, method, path, body, headers);

/** Until `done()` holds, polling; fails after `ms` (a bound on waiting, not a measurement). */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** xen-4.19 from boot to depth 10: a search of tens of seconds, for stopping. */
const LONG_SEARCH = JSON.stringify({ target: { ...SEED, version: 'xen-4.19' }, path: [], depth: 10 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checker-serve-guard-'));
  traces = join(dir, 'traces');
  mkdirSync(traces);
  const r = await cli('explore', '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', traces);
  expect(r.status, r.stderr).toBe(12);
  traceText = readFileSync(join(traces, 'refcount-matches-holders.itf.json'), 'utf8');
  serving = await startServer({ host: '127.0.0.1', port: 0, traceDir: traces, variants: [] });
});
afterAll(async () => {
  await serving?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a web page elsewhere cannot drive the server', () => {
  it('answers only the Host names it listens on: its address and localhost, with its port', async () => {
    const port = serving.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await raw('GET', '/api/info', undefined, { host })).status, host).toBe(200);
    }
    // DNS rebinding: a name of the attacker's that resolves to 127.0.0.1; a wrong port; no port
    for (const host of [`127.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.attacker.example:${port}`, `attacker.example:${port}`, `127.0.0.2:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1']) {
      const r = await raw('GET', '/api/info', undefined, { host });
      expectRefusal(r, 403, /answers only requests that name it as 127\.0\.0\.1:\d+ or localhost:\d+/);
      // the page itself is not served under another name either
      expect((await raw('GET', '/', undefined, { host })).status, host).toBe(403);
    }
  });

  it('refuses a cross-origin POST of text/plain (no preflight) before it starts anything', async () => {
    const r = await raw('POST', '/api/search', LONG_SEARCH, { 'content-type': 'text/plain', origin: 'http://attacker.example' });
    expect([403, 415]).toContain(r.status);
    expectRefusal(r, r.status);
    expect(serving.api.searching).toBe(false);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; charset=application/json']) {
      expectRefusal(await raw('POST', '/api/search', LONG_SEARCH, { 'content-type': type }), 415, /must be JSON \(Content-Type: application\/json\)/);
    }
    expectRefusal(await raw('POST', '/api/walk', JSON.stringify({ target: SEED, path: [] })), 415);
    expect(serving.api.searching).toBe(false);
  });

  it('refuses what a browser marks as coming from another site or origin, GETs included', async () => {
    const port = serving.port;
    expectRefusal(await raw('POST', '/api/walk', JSON.stringify({ target: SEED, path: [] }), { ...JSON_TYPE, origin: 'http://attacker.example' }), 403, /only its own page, not a request from "http:\/\/attacker\.example"/);
    expectRefusal(await raw('POST', '/api/walk', JSON.stringify({ target: SEED, path: [] }), { ...JSON_TYPE, origin: 'null' }), 403);
    expectRefusal(await raw('POST', '/api/walk', JSON.stringify({ target: SEED, path: [] }), { ...JSON_TYPE, origin: `http://localhost:${port}` }), 403);
    for (const site of ['cross-site', 'same-site']) {
      expectRefusal(await raw('GET', '/api/traces', undefined, { 'sec-fetch-site': site }), 403, new RegExp(`Sec-Fetch-Site: ${site}`));
      expectRefusal(await raw('GET', '/api/trace?name=refcount-matches-holders.itf.json', undefined, { 'sec-fetch-site': site }), 403);
    }
    // a preflight gets no CORS permission
    const pre = await raw('OPTIONS', '/api/search', undefined, { origin: 'http://attacker.example', 'access-control-request-method': 'POST' });
    expect([403, 405]).toContain(pre.status);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    // the page's own requests: same origin, JSON
    const own = await raw('POST', '/api/walk', JSON.stringify({ target: SEED, path: [28] }), { ...JSON_TYPE, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' });
    expect(own.status, own.body).toBe(200);
    expect((await raw('GET', '/api/traces', undefined, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // a page opened from a link elsewhere is served (only the API is the page's own)
    expect((await raw('GET', '/', undefined, { 'sec-fetch-site': 'cross-site' })).status).toBe(200);
  });

  it('lists the names a wildcard address answers to: every address of the machine, localhost, the host name', () => {
    const hosts = allowedHosts('0.0.0.0', '0.0.0.0', 8470, { lo: [{ address: '127.0.0.1' }], eth0: [{ address: '192.0.2.7' }, { address: 'fe80::1%eth0' }] } as never, 'build-box');
    expect([...hosts].sort()).toEqual(['127.0.0.1:8470', '192.0.2.7:8470', '[fe80::1]:8470', 'build-box:8470', 'localhost:8470'].sort());
    expect([...allowedHosts('::1', '::1', 80, {}, 'x')].sort()).toEqual(['[::1]', '[::1]:80', 'localhost', 'localhost:80']);
  });

  it('--host beyond loopback warns, and still refuses names it does not listen on', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const line = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) done(out);
        });
        child.on('exit', (code) => fail(new Error(`exited ${code}: ${err}`)));
      });
      const port = Number(/:(\d+)\//.exec(line)![1]);
      await until(() => err.includes('\n'), 10_000, 'the warning');
      expect(err).toMatch(/^checker serve: warning: --host 0\.0\.0\.0 is reachable from other machines: anyone who can reach it can read the trace folder and run searches; requests must name the server as one of .*localhost:\d+/);
      expect(err.trim().split('\n')).toHaveLength(1);
      const get = (host: string) => rawRequest(port, 'GET', '/api/info', undefined, { host });
      expect((await get(`127.0.0.1:${port}`)).status).toBe(200);
      const lan = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
      if (lan) expect((await get(`${lan.address}:${port}`)).status).toBe(200);
      expectRefusal(await get(`127.attacker.example:${port}`), 403);
      expectRefusal(await get(`attacker.example:${port}`), 403);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a loopback --host gives no warning', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((done) => child.stdout.once('data', () => done()));
    const code = new Promise<number | null>((done) => child.on('exit', done));
    child.kill('SIGINT');
    expect(await code).toBe(0);
    expect(err).toBe('');
  });
});

describe('a search stops when nobody waits for it', () => {
  it('streams its progress, and stops when its client disconnects', async () => {
    const firstLine = await new Promise<{ line: Record<string, unknown>; stop: () => void }>((done, fail) => {
      const req = request({ host: '127.0.0.1', port: serving.port, method: 'POST', path: '/api/search', headers: { ...JSON_TYPE, accept: 'application/x-ndjson' } }, (res) => {
        expect(res.headers['content-type']).toContain('application/x-ndjson');
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          const lines = ndjson(buf.slice(0, buf.lastIndexOf('\n') + 1));
          // a line past the start: the search is under way
          const deep = lines.find((l) => ((l.progress as { depth: number } | undefined)?.depth ?? 0) >= 2);
          if (deep) done({ line: deep, stop: () => req.destroy() });
        });
      });
      req.on('error', () => {});
      req.on('close', () => fail(new Error('closed before progress')));
      req.end(LONG_SEARCH);
    });
    expect(firstLine.line.progress).toMatchObject({ depth: expect.any(Number), distinct: expect.any(Number), generated: expect.any(Number), elapsedMs: expect.any(Number) });
    expect(serving.api.searching).toBe(true);
    firstLine.stop();
    // the search ends at its next poll, long before its tens of seconds
    await until(() => !serving.api.searching, 10_000, 'the search to stop');
    // and the next search runs at once, with no 429
    const next = await raw('POST', '/api/search', JSON.stringify({ target: SEED, path: [], depth: 2 }), JSON_TYPE);
    expect(next.status, next.body).toBe(200);
  });

  it('a second search while one runs is refused with 429; its progress ends with the result line', async () => {
    const controller = new AbortController();
    const first = fetch(`${serving.url}api/search`, { method: 'POST', headers: { ...JSON_TYPE, accept: 'application/x-ndjson' }, body: LONG_SEARCH, signal: controller.signal });
    const res = await first;
    const reader = res.body!.getReader();
    await reader.read(); // the first progress line: the search is under way
    expectRefusal(await raw('POST', '/api/search', JSON.stringify({ target: SEED, path: [], depth: 2 }), JSON_TYPE), 429, /already running/);
    controller.abort();
    await until(() => !serving.api.searching, 10_000, 'the search to stop');
    const done = await raw('POST', '/api/search', JSON.stringify({ target: SEED, path: [28], depth: 2 }), { ...JSON_TYPE, accept: 'application/x-ndjson' });
    const lines = ndjson(done.body);
    expect(lines[0]).toEqual({ progress: { depth: 0, distinct: 0, generated: 0, elapsedMs: 0 } });
    expect(Object.keys(lines[lines.length - 1]!)).toEqual(['result']);
    expect((lines[lines.length - 1]!.result as { distance: number }).distance).toBe(1);
  });

  it('Ctrl-C during a search stops the server (exit 0) instead of waiting for the search', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((done) => child.stdout.on('data', (c: Buffer) => done(/http:\/\/[^ ]+\//.exec(c.toString())![0])));
    const res = await fetch(`${url}api/search`, { method: 'POST', headers: { ...JSON_TYPE, accept: 'application/x-ndjson' }, body: LONG_SEARCH });
    const reader = res.body!.getReader();
    let seen = '';
    while (!/"depth":[3-9]/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // for the record (the search alone would take tens of seconds; not asserted: the machine is shared)
    console.log(`checker serve stopped ${Date.now() - t0} ms after SIGINT during a search`);
  });
});

describe('the folder is listed from the first bytes of its files', () => {
  let big: string;
  beforeAll(() => {
    // 40 traces of 50 MB: the checker's #meta at the start, then (sparse) zeros
    big = join(dir, 'big');
    mkdirSync(big);
    for (let i = 0; i < 40; i++) {
      const fd = openSync(join(big, `t${String(i).padStart(2, '0')}.itf.json`), 'w');
      writeSync(fd, traceText);
      ftruncateSync(fd, 50 << 20);
      closeSync(fd);
    }
    // another tool's trace: no #meta first
    writeFileSync(join(big, 'quint.itf.json'), JSON.stringify({ vars: ['frames'], states: [{}], '#meta': { source: 'x.qnt' } }));
  });

  it('40 traces of 50 MB: each described from its #meta, reading a few KiB of each', async () => {
    const s = await startServer({ host: '127.0.0.1', port: 0, traceDir: big, variants: [] });
    try {
      const before = s.api.listingBytesRead;
      const l = (await (await fetch(`${s.url}api/traces`)).json()) as TraceList;
      expect(l.total).toBe(41);
      expect(l.traces).toHaveLength(41);
      const t = l.traces.find((x) => x.name === 't07.itf.json')!;
      expect(t).toMatchObject({ property: 'refcount-matches-holders', depth: 2, configuration: 'seed on ept', error: null });
      expect(l.traces.find((x) => x.name === 'quint.itf.json')).toMatchObject({ property: null, error: null, configuration: expect.stringMatching(/no #meta at its start.*read when opened/) });
      const read = s.api.listingBytesRead - before;
      expect(read).toBeLessThanOrEqual(41 * HEAD_BYTES);
      expect(read).toBeLessThan(41 * (64 << 10));
    } finally {
      await s.close();
    }
  });

  it(`a folder of more than ${MAX_LISTED} traces: the first by name, and the count said`, async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < MAX_LISTED + 3; i++) writeFileSync(join(many, `t${String(i).padStart(4, '0')}.json`), '{}');
    const s = await startServer({ host: '127.0.0.1', port: 0, traceDir: many, variants: [] });
    try {
      const l = (await (await fetch(`${s.url}api/traces`)).json()) as TraceList;
      expect(l.total).toBe(MAX_LISTED + 3);
      expect(l.traces).toHaveLength(MAX_LISTED);
      expect(l.traces[MAX_LISTED - 1]!.name).toBe(`t${String(MAX_LISTED - 1).padStart(4, '0')}.json`);
    } finally {
      await s.close();
    }
  });

  it('opens a trace of the folder by its name, never a FIFO, a link or a path', async () => {
    const r = await raw('GET', '/api/trace?name=refcount-matches-holders.itf.json');
    expect(r.status).toBe(200);
    for (const name of ['../traces/refcount-matches-holders.itf.json', 'sub/x.json', 'x.txt']) expectRefusal(await raw('GET', `/api/trace?name=${encodeURIComponent(name)}`), 404, /no trace named/);
  });
});
