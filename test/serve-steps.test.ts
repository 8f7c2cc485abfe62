// checker serve with --granularity steps: xen-4.19's race walked by hand through the API (the
// operations of each state are each vCPU's next segment), every state's drawing counting what the
// invariants count (a reference a call in flight holds is a holder, not a leak), the interleaving
// (where each vCPU stopped, in the command line's words; lock holders; TLB flushes pending), a search
// from the middle of the race, the walk exported as a trace file that checker replay reads back to
// the same violation, and a search's account of what it checked in explore's own words.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportView, ReproducerView, SearchView, SuccessorsView, TargetSpec, TraceView } from '../checker/serve/protocol.js';
import { startServer, type Serving } from '../checker/serve/server.js';
import { cli, ROOT } from './cli-run.js';
import { expectRefusal, JSON_TYPE, rawRequest, SEED } from './serve-helpers.js';

let dir: string;
let serving: Serving;

async function post<T>(path: string, body: unknown, status = 200): Promise<T> {
  const r = await rawRequest(serving.port, 'POST', path, JSON.stringify(body), JSON_TYPE);
  expect(r.status, r.body).toBe(status);
  return JSON.parse(r.body) as T;
}

/** The universe of the race: xen-4.19, two vCPUs, the three calls that race. */
const RACE: TargetSpec = { ...SEED, version: 'xen-4.19', domains: 'dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm', ops: ['decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap'], granularity: 'steps', vcpus: 2 };

/**
 * The race as a schedule: which vCPU runs its next segment, and the call it starts when idle
 * (checker explore --xen xen-4.19 --granularity steps --vcpus 2 finds it at depth 25). Walked by
 * choosing, in each state, the operation the page offers for that vCPU: the indices are the model's.
 */
const SCHEDULE: [vcpu: number, start: string | null, segments: number][] = [
  [0, 'add_to_physmap_foreign(t=dom0, gT=0, f=dom1, gF=0)', 4],
  [1, 'remove_from_physmap(dom0, gfn=0)', 4],
  [0, null, 9],
  [0, 'decrease_reservation(dom1, gfn=0)', 6],
  [1, null, 2],
];

let race: TraceView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checker-serve-steps-'));
  serving = await startServer({ host: '127.0.0.1', port: 0, traceDir: null, variants: [], maxStates: 20_000 });
  const path: number[] = [];
  for (const [v, start, segments] of SCHEDULE) {
    for (let k = 0; k < segments; k++) {
      const s = await post<SuccessorsView>('/api/successors', { target: RACE, path });
      const want = `vcpu${v}: ${start !== null && k === 0 ? start : ''}`;
      const op = s.operations.find((o) => o.text.startsWith(want));
      expect(op, `step ${path.length + 1}: no operation ${want}… among ${s.operations.map((o) => o.text).join('; ')}`).toBeDefined();
      path.push(op!.actionIndex);
    }
  }
  race = await post<TraceView>('/api/walk', { target: RACE, path });
});
afterAll(async () => {
  await serving?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("xen-4.19's race, walked by hand at steps granularity", () => {
  it('ends in the dangling foreign entry, with each step in the command line words', () => {
    expect(race.steps).toHaveLength(25);
    expect(race.target).toMatchObject({ granularity: 'steps', vcpus: 2, version: 'xen-4.19' });
    expect(race.steps[19]!.text).toBe('vcpu0: decrease_reservation(dom1, gfn=0) ▸ stops in atomicWriteEptEntry: before write(p2m[dom1][0])');
    expect(race.steps.map((s) => s.vcpu)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, ...Array(15).fill(0), 1, 1]);
    expect(race.violations[25]!.map((v) => v.name)).toContain('no-dangling-mapping');
    expect(race.violations[25]!.find((v) => v.name === 'no-dangling-mapping')).toMatchObject({
      message: 'p2m[dom0][0] = map_foreign(mfn 2) (alive domain) maps frame 2, which is free',
      frames: [2],
      entries: [{ domain: 0, gfn: 0 }],
    });
    expect(race.violations.slice(0, 25).every((v) => v.length === 0)).toBe(true);
  });

  it('the drawing counts holders as refcount-matches-holders does: a count it calls a leak is one the invariant calls a leak', () => {
    // references held by calls in flight are holders: frames stay unmarked while the verdicts are clean
    let inFlightSeen = 0;
    race.states.forEach((s, k) => {
      const leaks = s.frames.filter((f) => !f.free && f.count !== f.held);
      const refcount = race.violations[k]!.some((v) => v.name === 'refcount-matches-holders');
      expect(leaks.length > 0, `state ${k}: frames ${leaks.map((f) => f.index).join(', ')} drawn as leaks`).toBe(refcount);
      inFlightSeen += s.frames.filter((f) => f.inFlight !== 0).length;
    });
    expect(inFlightSeen).toBeGreaterThan(10);
    const s20 = race.states[20]!;
    expect(s20.frames[2]).toMatchObject({ count: 3, held: 3, inFlight: 1 });
    expect(s20.frames[0]).toMatchObject({ count: 1, held: 1, inFlight: 1, fields: expect.arrayContaining([['allocated', 'false']]) });
  });

  it('the interleaving of each state: where each vCPU stopped, lock holders and waiters, pending TLB flushes', () => {
    const at20 = race.states[20]!.interleaving!;
    expect(at20.vcpus[0]).toMatchObject({ name: 'vcpu0', call: 'decrease_reservation(dom1, gfn=0)', at: 'atomicWriteEptEntry: before write(p2m[dom1][0])', holds: [1], references: [{ frame: 2, count: 1 }] });
    expect(at20.vcpus[1]).toMatchObject({ call: 'remove_from_physmap(dom0, gfn=0)', at: 'guestPhysmapRemovePage: before p2m_lock(dom0)', takesLock: 0, blocked: false, holds: [] });
    expect(at20.locks[1]).toMatchObject({ name: 'dom1', holder: 0, depth: 2, waiters: [] });
    expect(race.states[0]!.interleaving!.vcpus.every((v) => v.call === null && v.at === 'idle')).toBe(true);
    const at25 = race.states[25]!.interleaving!;
    expect(at25.tlb).toContainEqual({ domain: 1, frame: 2, stale: true });
    // the steps' changes name what the interleaving did, beside the cells of the model
    expect(race.steps[18]!.changes).toContainEqual({ cell: 'p2m_lock[dom1]', before: 'free', after: 'vcpu0', domain: 1 });
    expect(race.steps[24]!.changes).toContainEqual({ cell: 'tlb[dom1][2]', before: 'pending', after: 'pending, frame reused', domain: 1, frame: 2 });
    // the raw steps layer is not shown as an unknown field
    expect(race.states[20]!.other.map(([k]) => k)).not.toContain('steps');
  });

  it('the operations of a state in the middle: each vCPU’s next segment, and what it would violate', async () => {
    const s = await post<SuccessorsView>('/api/successors', { target: RACE, path: race.path.slice(0, 24) });
    expect(s.enabled).toBe(true);
    expect(s.operations.map((o) => o.text)).toEqual(['vcpu0: decrease_reservation(dom1, gfn=0)', 'vcpu1: remove_from_physmap(dom0, gfn=0) ▸ stops in atomicWriteEptEntry: before write(p2m[dom0][0])']);
    expect(s.operations[1]!.violates.map((v) => v.name)).toContain('no-dangling-mapping');
    expect(s.operations[0]!.changes).toContainEqual(expect.objectContaining({ cell: 'p2m_lock[dom1]', after: 'free' }));
    expectRefusal(await rawRequest(serving.port, 'POST', '/api/walk', JSON.stringify({ target: RACE, path: [...race.path.slice(0, 24), 2] }), JSON_TYPE), 400, /step 25: expected an action index from 0 to 1, got 2/);
  });

  it('the nearest violation from the middle of the race: found in the steps left, as a trace from the booted state', async () => {
    const r = await post<SearchView>('/api/search', { target: RACE, path: race.path.slice(0, 20), depth: 8 });
    expect(r.found).not.toBeNull();
    expect(r.distance).toBeLessThanOrEqual(5);
    expect(r.found!.from).toBe(20);
    expect(r.found!.path.slice(0, 20)).toEqual(race.path.slice(0, 20));
    expect(r.summary).toMatch(new RegExp(`^${r.found!.property} violated at depth ${r.distance} from step 20; stopped at the level of the first violation`));
  });

  it('exported as a trace file, which checker replay reads back to the same violation', async () => {
    const x = await post<ExportView>('/api/export', { target: RACE, path: race.path });
    expect(x.name).toBe(`${x.property}.itf.json`);
    // the first violated along the walk, unless one is asked for
    const asked = await post<ExportView>('/api/export', { target: RACE, path: race.path, property: 'no-dangling-mapping' });
    expect(asked.property).toBe('no-dangling-mapping');
    expect(asked.command).toBe('checker replay no-dangling-mapping.itf.json');
    // the shape explore's --trace-out writes: the published ITF schema
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    for (const f of readdirSync(join(ROOT, 'docs', 'schemas')).filter((n) => n.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(ROOT, 'docs', 'schemas', f), 'utf8')));
    const itfSchema = ajv.getSchema('itf.schema.json')!;
    expect(itfSchema(asked.itf), ajv.errorsText(itfSchema.errors)).toBe(true);
    const file = join(dir, asked.name);
    writeFileSync(file, JSON.stringify(asked.itf, null, 1));
    const r = await cli('replay', file);
    expect(r.status, r.stderr).toBe(12);
    expect(r.stdout).toContain('still violated: no-dangling-mapping: p2m[dom0][0] = map_foreign(mfn 2) (alive domain) maps frame 2, which is free');
    // and its replay command, with every flag of the universe, replays the token to the same violation
    const t = await cli(...race.replay.split(' ').slice(1));
    expect(race.replay).toMatch(/--xen xen-4\.19 .*--granularity steps --vcpus 2/);
    expect(t.status, t.stderr).toBe(12);
    expect(t.stdout).toContain('violated at depth 25: no-dangling-mapping: p2m[dom0][0] = map_foreign(mfn 2) (alive domain) maps frame 2, which is free');
    // a walk that violates nothing is no counterexample
    expectRefusal(await rawRequest(serving.port, 'POST', '/api/export', JSON.stringify({ target: RACE, path: race.path.slice(0, 3) }), JSON_TYPE), 400, /^nothing is violated along this walk: a trace file is a counterexample/);
    expectRefusal(await rawRequest(serving.port, 'POST', '/api/export', JSON.stringify({ target: RACE, path: race.path, property: 'refcount-matches-holders' }), JSON_TYPE), 400, /^refcount-matches-holders is not violated along this walk/);
  });
});

describe('a walk as a C reproducer for a Xen host', () => {
  it('is the program checker trace export --format c writes for the same trace, built and run as it says', async () => {
    const x = await post<ExportView>('/api/export', { target: RACE, path: race.path, property: 'no-dangling-mapping' });
    const c = await post<ReproducerView>('/api/reproducer', { target: RACE, path: race.path, property: 'no-dangling-mapping' });
    expect(c).toMatchObject({ name: 'no-dangling-mapping.c', property: 'no-dangling-mapping', kind: 'race-loop', run: './no-dangling-mapping' });
    expect(c.build).toBe('gcc -Wall -Wextra -Werror -O2 -o no-dangling-mapping no-dangling-mapping.c -lxenctrl -lpthread');
    // the same file name: the program names the trace it was made from
    mkdirSync(join(dir, 'c'));
    const file = join(dir, 'c', x.name);
    writeFileSync(file, JSON.stringify(x.itf));
    const r = await cli('trace', 'export', '--format', 'c', file, '--out', join(dir, 'c', c.name));
    expect(r.status, r.stderr).toBe(0);
    expect(c.source).toBe(readFileSync(join(dir, 'c', c.name), 'utf8'));
    // a trace no host can run is the user's one line
    const mutant = { ...SEED, version: 'xen-4.19', domains: RACE.domains, mutant: 'ept-write-without-put' };
    expectRefusal(await rawRequest(serving.port, 'POST', '/api/reproducer', JSON.stringify({ target: mutant, path: [28, 55] }), JSON_TYPE), 400, /^a trace of mutant ept-write-without-put cannot become a reproducer/);
  });
});

describe('what a search checked, in explore’s words', () => {
  it('stopped by --max-states: "holds to depth N (depth N+1 partly explored)", as explore says it with the same cap', async () => {
    const r = await post<SearchView>('/api/search', { target: { ...SEED, version: 'xen-4.19' }, path: [], depth: 10 });
    expect(r.found).toBeNull();
    expect(r.stopped).toBe('max-states');
    const cliRun = await cli('explore', '--xen', 'xen-4.19', '--depth', '10', '--max-states', '20000', '--stop-at-first');
    expect(cliRun.status, cliRun.stderr).toBe(3);
    const holds = /✓ refcount-matches-holders +(holds to depth \d+ \(depth \d+ partly explored\))/.exec(cliRun.stdout)![1]!;
    expect(r.summary).toBe(`from step 0, every invariant not already violated there ${holds}; stopped by --max-states before the bound: partial result`);
    expect(r.complete).toBe(Number(/holds to depth (\d+)/.exec(holds)![1]));
  });
});
