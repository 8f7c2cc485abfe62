// checker serve without a browser: the served files and nothing else, the API on the seed's
// counterexamples (trace views, the operations from a state, walks, the search for the nearest
// violation), bad requests answered with a 4xx and a JSON error while the server goes on, variants
// only from the command line, and the command's own errors.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Serving } from '../checker/serve/server.js';
import { loadServerVariants } from '../checker/serve/targets.js';
import { stateView } from '../checker/serve/view.js';
import { makeUniverse, makeXenModel } from '../model/index.js';
import type { SearchView, SuccessorsView, TraceList, TraceView } from '../checker/serve/protocol.js';
import { CLI, cli, cliWithin, expectUsageError, ROOT } from './cli-run.js';
import { expectRefusal, JSON_TYPE, rawRequest, SEED, type Reply } from './serve-helpers.js';

let dir: string;
let traces: string;
let serving: Serving;

/** A raw request to this file's server (the path is sent as written: no client-side normalisation of `..`). */
const raw = (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> => rawRequest(serving.port, method, path, body, headers);
/** A POST of JSON text, as the page sends it. */
const rawPost = (path: string, body: string) => raw('POST', path, body, JSON_TYPE);

async function getJson<T>(path: string): Promise<T> {
  const r = await raw('GET', path);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as T;
}

async function post<T>(path: string, body: unknown, status = 200): Promise<T> {
  const r = await rawPost(path, JSON.stringify(body));
  expect(r.status, r.body).toBe(status);
  return JSON.parse(r.body) as T;
}


// A variant that changes nothing, and leaves a mark when its code runs: the seed's leak is its leak.
const SAME_VARIANT = `import { writeFileSync } from 'node:fs';
writeFileSync(new URL('./loaded.' + process.pid, import.meta.url), '');
export default { name: 'same-as-seed', base: 'seed', overrides: {} };
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checker-serve-'));
  traces = join(dir, 'traces');
  mkdirSync(traces);
  const r = await cli('explore', '--depth', '3', '--invariants', 'refcount-matches-holders,no-orphan-reference', '--trace-out', traces);
  expect(r.status, r.stderr).toBe(12);
  // the variant's trace is written by another process: this one never runs the variant's code unless a server is started with it
  writeFileSync(join(dir, 'same.ts'), SAME_VARIANT);
  const vdir = join(dir, 'variant-traces');
  const v = await cli('explore', '--variant', join(dir, 'same.ts'), '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', vdir);
  expect(v.status, v.stderr).toBe(12);
  writeFileSync(join(traces, 'variant-leak.itf.json'), readFileSync(join(vdir, 'refcount-matches-holders.itf.json')));
  writeFileSync(join(traces, 'broken.json'), '{ not json');
  serving = await startServer({ host: '127.0.0.1', port: 0, traceDir: traces, variants: [] });
});
afterAll(async () => {
  await serving?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('served files', () => {
  it('the page: its HTML, its script and its style sheet, nothing fetched from elsewhere', async () => {
    const html = await raw('GET', '/');
    expect(html.status).toBe(200);
    expect(html.type).toContain('text/html');
    expect(html.body).toContain('<script type="module" src="/main.js">');
    expect(html.body).not.toMatch(/https?:\/\//);
    const js = await raw('GET', '/main.js');
    expect(js.status).toBe(200);
    expect(js.type).toContain('javascript');
    expect(js.body.length).toBeGreaterThan(1000);
    expect((await raw('GET', '/main.css')).type).toContain('text/css');
  });

  it('refuses every path outside its own, ../ included', async () => {
    const pkg = readFileSync(join(ROOT, 'package.json'), 'utf8');
    for (const path of ['/../package.json', '/../../../../etc/passwd', '/%2e%2e/package.json', '/%2E%2E/%2e%2e/package.json', '/main.js/../../package.json', '/api/../package.json', '/..%2fpackage.json', '/.%2e/package.json', '//etc/passwd', '/package.json', '/dist/checker/cli/index.js', '/checker/serve/server.ts']) {
      const r = await raw('GET', path);
      expectRefusal(r, 404);
      expect(r.body).not.toContain(pkg.slice(0, 40));
      expect(r.body).not.toContain('root:');
    }
  });

  it('opens a trace of the folder by its listed name only, never by a path', async () => {
    for (const name of ['../package.json', '/etc/passwd', `../traces/refcount-matches-holders.itf.json`, '.', '..', 'refcount-matches-holders.itf.json/']) {
      expectRefusal(await raw('GET', `/api/trace?name=${encodeURIComponent(name)}`), 404, /no trace named/);
    }
  });
});

describe('traces', () => {
  it('lists the folder: property and depth of each trace, why a file cannot be opened', async () => {
    const l = await getJson<TraceList>('/api/traces');
    expect(l.dir).toBe(traces);
    const by = new Map(l.traces.map((t) => [t.name, t]));
    expect(by.get('refcount-matches-holders.itf.json')).toMatchObject({ property: 'refcount-matches-holders', depth: 2, configuration: 'seed on ept', error: null });
    expect(by.get('no-orphan-reference.itf.json')).toMatchObject({ property: 'no-orphan-reference', depth: 3, error: null });
    expect(by.get('broken.json')!.error).toBe('not valid JSON');
    expect(by.get('variant-leak.itf.json')!.error).toMatch(/--variant/);
  });

  it("the seed's leak: every state, the changed cells, the violation, the ledger of the leaked frame", async () => {
    const t = await getJson<TraceView>('/api/trace?name=refcount-matches-holders.itf.json');
    expect(t.kind).toBe('trace');
    expect(t.property).toBe('refcount-matches-holders');
    expect(t.path).toEqual([28, 55]);
    expect(t.states).toHaveLength(3);
    expect(t.steps.map((s) => `${s.text} → ${s.rcText}`)).toEqual(['add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0) → 0', 'destroy(dom1) → 0']);
    expect(t.steps[0]!.changes).toContainEqual({ cell: 'frames[4].count', before: '1', after: '2', frame: 4 });
    expect(t.steps[1]!.changes).toContainEqual(expect.objectContaining({ cell: 'p2m[dom1][0]', before: 'map_foreign(mfn 4)', after: 'empty' }));
    // the drawing's facts: the entry maps frame 4 foreign after step 1; after step 2 frame 4 counts 2 with 1 holder
    expect(t.states[1]!.p2m[1]![0]).toMatchObject({ type: 'map_foreign', mfn: 4, foreign: true });
    expect(t.states[2]!.frames[4]).toMatchObject({ owner: 'dom2', count: 2, held: 1, free: false });
    expect(t.states[2]!.frames[4]!.fields).toEqual([['owner', 'dom2'], ['count', '2'], ['allocated', 'true'], ['m2p', 'gfn 0']]);
    expect(t.states[2]!.domains[1]).toMatchObject({ name: 'dom1', life: 'destroyed' });
    expect(t.violations[0]).toEqual([]);
    expect(t.violations[2]!.map((v) => v.name)).toContain('refcount-matches-holders');
    expect(t.subjectFrame).toBe(4);
    expect(t.ledgers[4]!.join('\n')).toContain('p2m[dom1][0] map_foreign(mfn 4) → empty: removed without put_page');
    expect(t.steps[0]!.ledger).toContainEqual({ frame: 4, delta: 1, text: '+1 get_page in atomicWriteEptEntry' });
  });

  it('a trace dropped on the page is read the same way; a bad one is a 400 naming the problem', async () => {
    const text = readFileSync(join(traces, 'refcount-matches-holders.itf.json'), 'utf8');
    const r = await rawPost('/api/trace?name=mine.itf.json', text);
    expect(r.status).toBe(200);
    const t = JSON.parse(r.body) as TraceView;
    expect(t.source).toBe('mine.itf.json');
    expect(t.states[2]!.frames[4]!.count).toBe(2);
    expectRefusal(await rawPost('/api/trace?name=x.json', '{ nope'), 400, /not valid JSON/);
    expectRefusal(await rawPost('/api/trace?name=x.json', ''), 400, /empty/);
    const edited = JSON.parse(text);
    edited.states[2].frames['#map'][4][1].count = { '#bigint': '1' };
    expectRefusal(await rawPost('/api/trace?name=x.json', JSON.stringify(edited)), 400, /step 2: the recorded state is not what the model gives/);
    const other = JSON.parse(text);
    other['#meta'].configuration.version = 'xen-99';
    expectRefusal(await rawPost('/api/trace?name=x.json', JSON.stringify(other)), 400, /--xen: unknown version "xen-99"/);
  });
});

describe('exploring by hand', () => {
  it('every operation from the booted state, with its return code and what it changes', async () => {
    const s = await post<SuccessorsView>('/api/successors', { target: SEED, path: [] });
    expect(s.enabled).toBe(true);
    expect(s.operations).toHaveLength(57);
    const add = s.operations[28]!;
    expect(add.text).toBe('add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0)');
    expect(add.rc).toBe(0);
    expect(add.changes).toContainEqual(expect.objectContaining({ cell: 'p2m[dom1][0]', before: 'ram_rw(mfn 2)', after: 'map_foreign(mfn 4)' }));
    expect(s.operations[0]).toMatchObject({ text: 'populate_physmap(dom0, gfn=0)', rcText: '-EEXIST', changes: [] });
  });

  it("marks the operation that would violate an invariant, and not those violated already", async () => {
    const s = await post<SuccessorsView>('/api/successors', { target: SEED, path: [28] });
    expect(s.already).toEqual([]);
    expect(s.operations[55]!.text).toBe('destroy(dom1)');
    expect(s.operations[55]!.violates.map((v) => v.name)).toContain('refcount-matches-holders');
    const after = await post<SuccessorsView>('/api/successors', { target: SEED, path: [28, 55] });
    expect(after.already.map((v) => v.name)).toContain('refcount-matches-holders');
    expect(after.operations.every((o) => !o.violates.some((v) => v.name === 'refcount-matches-holders'))).toBe(true);
  });

  it('a walk is a trace from the booted state, with its ledger', async () => {
    const w = await post<TraceView>('/api/walk', { target: SEED, path: [28, 55], title: 'mine' });
    expect(w.kind).toBe('walk');
    expect(w.title).toBe('mine');
    expect(w.property).toBeNull();
    expect(w.states[2]!.frames[4]).toMatchObject({ count: 2, held: 1 });
    expect(w.violations[2]!.map((v) => v.name)).toContain('refcount-matches-holders');
    const booted = await post<TraceView>('/api/walk', { target: { ...SEED, version: 'xen-4.19' }, path: [] });
    expect(booted.states).toHaveLength(1);
    expect(booted.target.version).toBe('xen-4.19');
    expect(booted.target.ops).toContain('destroy');
  });

  it('the shortest violation from a state: the BFS from there, as a trace from the booted state', async () => {
    const fromBoot = await post<SearchView>('/api/search', { target: SEED, path: [], depth: 3 });
    expect(fromBoot.distance).toBe(2);
    expect(fromBoot.found!.property).toBe('refcount-matches-holders');
    expect(fromBoot.found!.path).toEqual([28, 55]);
    expect(fromBoot.found!.from).toBe(0);
    const fromStep1 = await post<SearchView>('/api/search', { target: SEED, path: [28], depth: 3 });
    expect(fromStep1.distance).toBe(1);
    expect(fromStep1.found!.path).toEqual([28, 55]);
    expect(fromStep1.found!.from).toBe(1);
    expect(fromStep1.found!.kind).toBe('search');
    // what it checked, in explore's words: the violation at its depth, stopped at that level
    expect(fromStep1.summary).toBe('refcount-matches-holders violated at depth 1 from step 1; stopped at the level of the first violation (--stop-at-first)');
    // the fixed variant's universe is not the seed's: from the booted xen-4.19 nothing within 2 steps
    const clean = await post<SearchView>('/api/search', { target: { ...SEED, version: 'xen-4.19' }, path: [], depth: 2 });
    expect(clean.found).toBeNull();
    expect(clean.distinct).toBeGreaterThan(1);
    expect(clean.summary).toBe('from step 0, every invariant not already violated there holds to depth 2; bound reached: depth 2');
  });

  it('a search result opened again from its link: the walk to it, shown as its counterexample from its step', async () => {
    const found = (await post<SearchView>('/api/search', { target: SEED, path: [28], depth: 3 })).found!;
    const again = await post<TraceView>('/api/walk', { target: found.target, path: found.path, property: found.property, from: found.from });
    expect(again).toMatchObject({ kind: 'search', property: 'refcount-matches-holders', message: found.message, subjectFrame: 4, from: 1, path: [28, 55] });
    // a property the walk does not violate leaves it a plain walk; a name that is no invariant is refused
    const plain = await post<TraceView>('/api/walk', { target: SEED, path: [28], property: 'refcount-matches-holders' });
    expect(plain).toMatchObject({ kind: 'walk', property: null, message: null });
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: SEED, path: [28], property: 'no-such' })), 400, /property: expected one of/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: SEED, path: [28], from: 5 })), 400, /from: expected a step from 0 to 1/);
  });

  it('every trace carries the command that replays it, with every flag of its universe', async () => {
    const t = await getJson<TraceView>('/api/trace?name=refcount-matches-holders.itf.json');
    expect(t.replay).toBe('checker replay --path 28,55 --xen seed --backend ept --domains dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm --gfns 2 --spare-frames 1 --ops populate_physmap,decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy --build debug');
    const r = await cli(...t.replay.split(' ').slice(1));
    expect(r.status, r.stderr).toBe(12);
    expect(r.stdout).toContain(`violated at depth 2: refcount-matches-holders: ${t.message}`);
  });

  it('a mutant of the catalogue runs on its base version', async () => {
    const w = await post<TraceView>('/api/walk', { target: { ...SEED, version: 'xen-4.19', mutant: 'ept-write-without-put' }, path: [] });
    expect(w.label).toMatch(/mutant ept-write-without-put/);
  });
});

describe('states the model does not have yet', () => {
  it('a field the page does not know is drawn as text, with the known ones', () => {
    const u = makeUniverse();
    const s = makeXenModel(u).init() as unknown as Record<string, any>;
    // fields the model may gain: per-domain page tables and a device-model target, superpage
    // entries, a machine-wide counter, and a per-frame flag
    s.domains[1].tables = true;
    s.domains[1].target = 2;
    s.p2m[0][0] = { ...s.p2m[0][0], order: 1 };
    s.armedFailures = 2;
    s.frames[3].pinned = false;
    const v = stateView(u, s as never);
    expect(v.domains[1]!.fields).toEqual(expect.arrayContaining([['tables', 'true'], ['target', '2'], ['life', 'alive']]));
    expect(v.p2m[0]![0]).toMatchObject({ type: 'ram_rw', mfn: 0, text: 'ram_rw(mfn 0, order 1)' });
    expect(v.other).toEqual([['armedFailures', '2']]);
    expect(v.frames[3]!.fields).toContainEqual(['pinned', 'false']);
    expect(v.frames[3]).toMatchObject({ owner: 'dom1', count: 1, held: 1 });
  });
});

describe('bad requests: a 4xx with a JSON error, and the server goes on', () => {
  it('each is refused with one line', async () => {
    expectRefusal(await rawPost('/api/walk', '{'), 400, /not valid JSON/);
    expectRefusal(await rawPost('/api/walk', '[1]'), 400, /JSON object/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ path: [] })), 400, /target/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: { ...SEED, version: 'nope' }, path: [] })), 400, /--xen: unknown version "nope"/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: { ...SEED, gfns: 'two' }, path: [] })), 400, /target.gfns/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: { ...SEED, gfns: 99 }, path: [] })), 400, /--gfns/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: SEED, path: [57] })), 400, /step 1: expected an action index from 0 to 56, got 57/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: SEED, path: 'x' })), 400, /path/);
    expectRefusal(await rawPost('/api/walk', JSON.stringify({ target: { ...SEED, variant: 'mine' }, path: [] })), 400, /not one this server was started with/);
    expectRefusal(await rawPost('/api/search', JSON.stringify({ target: SEED, path: [], depth: 0 })), 400, /depth/);
    expectRefusal(await rawPost('/api/search', JSON.stringify({ target: SEED, path: [], depth: 1000 })), 400, /depth/);
    expectRefusal(await raw('GET', '/api/trace'), 400, /name/);
    expectRefusal(await raw('PUT', '/api/walk', '{}'), 405);
    expectRefusal(await raw('GET', '/api/walk'), 405);
    expectRefusal(await raw('POST', '/main.js', ''), 405);
    expectRefusal(await raw('GET', '/api/nothing'), 404);
    expectRefusal(await rawPost('/api/trace', 'x'.repeat((16 << 20) + 1)), 413);
    const info = await raw('GET', '/api/info');
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body).versions).toContain('seed');
  });
});

describe('variants: only those the server was started with, never code named in a trace', () => {
  const marker = () => join(dir, `loaded.${process.pid}`);

  it('a trace of a variant the server was not started with is refused, and its code never runs', async () => {
    expectRefusal(await raw('GET', '/api/trace?name=variant-leak.itf.json'), 400, /never loads code named in a trace.*--variant/);
    const text = readFileSync(join(traces, 'variant-leak.itf.json'), 'utf8');
    expectRefusal(await rawPost('/api/trace?name=v.json', text), 400, /--variant/);
    expect(existsSync(marker())).toBe(false);
  });

  it('started with the variant, the server opens its trace and walks it', async () => {
    const variants = await loadServerVariants([join(dir, 'same.ts')]);
    expect(existsSync(marker())).toBe(true); // the mark is made when the code runs
    const s2 = await startServer({ host: '127.0.0.1', port: 0, traceDir: traces, variants });
    try {
      const res = await fetch(`${s2.url}api/trace?name=variant-leak.itf.json`);
      expect(res.status).toBe(200);
      const t = (await res.json()) as TraceView;
      expect(t.label).toMatch(/variant same-as-seed of seed/);
      expect(t.target.variant).toBe('same-as-seed');
      const w = await fetch(`${s2.url}api/walk`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ target: t.target, path: [28] }) });
      expect(w.status).toBe(200);
    } finally {
      await s2.close();
    }
  });
});

describe('the command', () => {
  it('serves until SIGTERM, printing its address, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--trace-dir', traces], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((done, fail) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) done(out);
      });
      child.on('exit', (code) => fail(new Error(`exited ${code} before listening`)));
    });
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
    expect(url, line).toBeDefined();
    const l = (await (await fetch(`${url}api/traces`)).json()) as TraceList;
    expect(l.traces.length).toBeGreaterThanOrEqual(3);
    const code = new Promise<number | null>((done) => child.on('exit', done));
    child.kill('SIGTERM');
    expect(await code).toBe(0);
  });

  it('a port in use is one line and exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const port = String((busy.address() as { port: number }).port);
    try {
      expectUsageError(await cliWithin(60_000, ['serve', '--port', port]), new RegExp(`--port ${port}: the port is in use`));
    } finally {
      busy.close();
    }
  });

  it('bad flags and a variant that does not load are one line and exit 2', async () => {
    expectUsageError(await cli('serve', '--port', 'http'), /--port: expected a port number/);
    expectUsageError(await cli('serve', '--port', '70000'), /--port/);
    expectUsageError(await cli('serve', '--trace-dir', join(dir, 'nowhere')), /--trace-dir: .* does not exist/);
    expectUsageError(await cli('serve', '--trace-dir', join(traces, 'broken.json')), /is not a folder/);
    expectUsageError(await cli('serve', '--variant', join(dir, 'missing.ts')), /--variant: .* does not exist/);
    expectUsageError(await cli('serve', '--max-states', 'lots'), /--max-states: expected a whole number ≥ 1, got "lots"/);
    expectUsageError(await cli('serve', '--max-states', '0'), /--max-states/);
  });

  it('the page imports nothing of the server but the protocol types (it is bundled apart)', () => {
    const pageDir = join(ROOT, 'checker', 'serve', 'page');
    for (const f of readdirSync(pageDir).filter((n) => /\.tsx?$/.test(n))) {
      const src = readFileSync(join(pageDir, f), 'utf8');
      for (const m of src.matchAll(/from\s+'(\.[^']+)'/g)) {
        const spec = m[1]!;
        expect(spec.startsWith('./') || spec === '../protocol.js', `${f} imports ${spec}`).toBe(true);
        if (spec === '../protocol.js') expect(src, `${f} imports the protocol for types only`).toMatch(/import type [^;]+ from '\.\.\/protocol\.js'/);
      }
    }
  });
});
