// The traces are ITF as other tools read it. Quint's own ITF reader (the module of
// @informalsystems/quint that `quint` uses to load traces; the Quint command line itself may not start
// on Node 20, the module does) loads every trace, turns it into Quint values and back unchanged, and
// finds Quint's model-based-testing variables. And the checker reads a trace of this model that
// another tool wrote: no configuration of ours, perhaps only the states.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ofItf, ofItfNormalized, toItf, ACTION_TAKEN, NONDET_PICKS } from '@informalsystems/quint/dist/src/itf.js';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../checker/check.js';
import { traceToItf, ITF_VARS, itfVarTypes } from '../checker/trace/itf.js';
import { readTraceText, rebuildTrace } from '../checker/trace/load.js';
import { replayTrace } from '../checker/trace/replay.js';
import { resolveTarget, universeFromFlags, wire } from '../checker/xen-model.js';
import { buildTrace } from '../checker/trace/build.js';
import { formatAction } from '../model/index.js';
import { INVARIANTS } from '../invariants/index.js';
import { cli, expectUsageError } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-itf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The traces of a run, as the checker writes them. */
async function tracesOf(flags: Record<string, string | boolean>, depth: number): Promise<any[]> {
  const target = await resolveTarget(flags);
  const { traces } = await check(target, { maxDepth: depth, invariants: INVARIANTS, workers: 1, flags });
  return traces.map((t) =>
    JSON.parse(
      JSON.stringify(
        traceToItf({ u: target.u, property: t.property, message: t.message ?? '', path: t.path, states: t.states, actions: t.steps.map((s) => s.action), rcs: t.steps.map((s) => s.rc), tool: 'checker test', mutant: target.mutant }),
      ),
    ),
  );
}

/** A trace along a path of operations chosen by their text (each step's ITF, whatever it violates). */
function traceAlong(flags: { ops: string; superpages?: boolean }, steps: string[]): any {
  const u = universeFromFlags(flags);
  const w = wire(u);
  const texts = w.xm.actions.map((a) => formatAction(u, a));
  const path = steps.map((t) => texts.indexOf(t));
  expect(path).not.toContain(-1);
  const t = buildTrace(w, { name: 'no-hypervisor-fault', depth: path.length, root: 0, path, message: '' });
  return JSON.parse(JSON.stringify(traceToItf({ u, property: t.property, message: '', path, states: t.states, actions: t.steps.map((s) => s.action), rcs: t.steps.map((s) => s.rc), tool: 'checker test' })));
}

// the seed's leaks (depth 3), and set_log_dirty (a boolean argument), a failed allocation and superpages
const seed = await tracesOf({}, 3);
const logDirty = [
  traceAlong({ ops: 'populate_physmap,add_to_physmap_foreign,set_log_dirty,destroy,fail_next_alloc', superpages: true }, [
    'set_log_dirty(dom1, on)',
    'fail_next_alloc()',
    'add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0)',
  ]),
];
const all = [...seed, ...logDirty];

/** Every value in a JSON tree, with its key. */
function* leaves(v: unknown, key = ''): Generator<[string, unknown]> {
  if (Array.isArray(v)) for (const x of v) yield* leaves(x, key);
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) yield* leaves(x, k);
  else yield [key, v];
}

describe("Quint's ITF reader", () => {
  it('has traces to read, of every operation kind used', () => {
    expect(seed.length).toBeGreaterThanOrEqual(2);
    expect(logDirty.some((t) => t.states.some((s: any) => s['mbt::actionTaken'] === 'set_log_dirty'))).toBe(true);
  });

  it('loads every trace into Quint values, and writes the same states back', () => {
    for (const t of all) {
      const values = ofItf(t);
      expect(values).toHaveLength(t.states.length);
      const back = toItf(t.vars, values);
      expect(back.isRight(), String(back.value)).toBe(true);
      // Quint writes #meta {index} alone: compare the variables
      const strip = (s: any) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== '#meta'));
      expect((back.value as any).states.map(strip)).toEqual(t.states.map(strip));
    }
  });

  it('normalizes every trace through its runtime values (maps, variants and records well formed)', () => {
    for (const t of all) expect(ofItfNormalized(t)).toHaveLength(t.states.length);
  });

  it("every state defines every variable, with Quint's mbt::actionTaken and mbt::nondetPicks", () => {
    for (const t of all) {
      expect(t.vars).toEqual([...ITF_VARS]);
      expect(t.vars).toContain(ACTION_TAKEN);
      expect(t.vars).toContain(NONDET_PICKS);
      t.states.forEach((s: any, i: number) => {
        for (const v of t.vars) expect(s, `states[${i}].${v}`).toHaveProperty([v]);
        expect(s[ACTION_TAKEN]).toBe(i === 0 ? 'init' : s.action.tag);
        for (const pick of Object.values(s[NONDET_PICKS]) as any[]) expect(['Some', 'None']).toContain(pick.tag);
      });
    }
  });

  it('nondetPicks holds the arguments the step took, as the action does', () => {
    const step = seed[0].states[1];
    expect(step.action).toEqual({ tag: 'add_to_physmap_foreign', value: { t: 'dom1', gT: { '#bigint': '0' }, f: 'dom2', gF: { '#bigint': '0' } } });
    expect(step[NONDET_PICKS]).toMatchObject({ t: { tag: 'Some', value: 'dom1' }, gT: { tag: 'Some', value: { '#bigint': '0' } }, d: { tag: 'None' }, on: { tag: 'None' } });
  });

  it('frames is a #map keyed by mfn, like p2m', () => {
    const s0 = seed[0].states[0];
    expect(s0.frames['#map'].map(([k]: any) => k)).toEqual(Array.from({ length: 7 }, (_, m) => ({ '#bigint': String(m) })));
  });

  it('booleans are booleans, integers #bigint: no "true", no plain number', () => {
    for (const t of all) {
      for (const [k, v] of leaves(t.states)) {
        expect(typeof v === 'number' && k !== 'index' && k !== 'actionIndex', `a plain number under ${k}`).toBe(false);
        expect(v === 'true' || v === 'false' || v === 'on' || v === 'off', `a boolean as text under ${k}`).toBe(false);
      }
    }
    const sw = logDirty.flatMap((t) => t.states).find((s: any) => s.action.tag === 'set_log_dirty');
    expect(typeof sw.action.value.on).toBe('boolean');
  });

  it('#meta.varTypes types every variable, for Apalache', () => {
    for (const t of all) {
      expect(Object.keys(t['#meta'].varTypes).sort()).toEqual([...t.vars].sort());
      expect(t['#meta'].varTypes).toEqual(itfVarTypes());
    }
    expect(itfVarTypes().frames).toMatch(/^Int -> \{ owner: Free\(UNIT\) \| Cow\(UNIT\) \| Dom\(Str\), count: Int, allocated: Bool/);
  });
});

describe('a trace of this model written by another tool', () => {
  const ours = seed.find((t) => t['#meta'].property === 'refcount-matches-holders')!;
  const write = (name: string, v: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(v));
    return p;
  };

  it('with no #meta at all: the path and the violated property come from the states', async () => {
    const { '#meta': _, ...rest } = ours;
    const tf = await readTraceText(JSON.stringify(rest), 'foreign.itf.json');
    expect(tf.foreign).toBe(true);
    expect(tf.meta.path).toEqual(ours['#meta'].path);
    expect(tf.meta.property).toBe('refcount-matches-holders');
    expect(replayTrace(tf).violation).toBe(ours['#meta'].message);
    expect(rebuildTrace(tf).path).toEqual([28, 55]);
  });

  it('with only frames, domains and p2m, as Quint would write its own state variables', async () => {
    const states = ours.states.map((s: any) => ({ frames: s.frames, domains: s.domains, p2m: s.p2m }));
    const tf = await readTraceText(JSON.stringify({ vars: ['frames', 'domains', 'p2m'], states }), 'bare.itf.json');
    expect(tf.meta.path).toEqual([28, 55]);
  });

  it("with Quint's mbt variables naming the step: the named action is taken among those giving the same state", async () => {
    const { '#meta': _, ...rest } = ours;
    const states = rest.states.map((s: any) => {
      const { action: _a, rc: _r, ...keep } = s;
      return keep;
    });
    const tf = await readTraceText(JSON.stringify({ ...rest, vars: rest.vars.filter((v: string) => v !== 'action' && v !== 'rc'), states }), 'mbt.itf.json');
    expect(tf.meta.path).toEqual([28, 55]);
    // a step named as another operation than the one that gives the state is refused
    states[2]['mbt::actionTaken'] = 'populate_physmap';
    await expect(readTraceText(JSON.stringify({ ...rest, states }), 'lying.itf.json')).rejects.toThrow(/step 2: the trace names populate_physmap/);
  });

  it('replay and trace show read it from the command line; the universe flags say which universe', async () => {
    const { '#meta': _, ...rest } = ours;
    const p = write('foreign.itf.json', rest);
    const [replay, show, other] = await Promise.all([cli('replay', p), cli('trace', 'show', p), cli('replay', p, '--xen', 'xen-4.19')]);
    expect(replay.status, replay.stderr).toBe(12);
    expect(replay.stdout).toMatch(/still violated: refcount-matches-holders/);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain('replay token: 28,55');
    // on xen-4.19 the same states are not what the model gives
    expectUsageError(other, /step 2|step 1/);
  });

  it('the universe flags say which universe a trace with no configuration of ours is of', async () => {
    // the seed's leak on a universe where dom1 is no device model: the same states
    const p = write('other-universe.itf.json', { vars: ours.vars, states: ours.states });
    const r = await cli('replay', p, '--domains', 'dom0:pvh:hw,dom1:pvh,dom2:hvm', '--xen', 'seed');
    expect(r.status, r.stderr).toBe(12);
    expect(r.stdout).toMatch(/^replaying .*: seed on ept, 2 steps, property refcount-matches-holders$/m);
  });

  it('a trace of ours refuses universe flags: it carries its configuration', async () => {
    const p = write('ours.itf.json', ours);
    expectUsageError(await cli('replay', p, '--xen', 'xen-4.19'), /carries its configuration/);
  });

  it('states the model never reaches are refused, naming the step', async () => {
    const { '#meta': _, ...rest } = ours;
    const edited = structuredClone(rest);
    edited.states[2].frames['#map'][4][1].count = { '#bigint': '9' };
    expectUsageError(await cli('replay', write('edited.itf.json', edited)), /step 2: no operation of the model leads/);
  });
});
