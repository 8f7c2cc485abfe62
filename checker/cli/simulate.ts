// `checker simulate`: random deep walks, shrunk by fast-check. Where `explore` is exhaustive to a
// small depth, a walk goes far deeper (50 operations by default) at the price of completeness; a
// violation found on a long walk is shrunk (fewer operations, smaller action indices) to a short
// counterexample, printed and written exactly as explore's.
//
// A walk is a list of action indices into the model's fixed enumeration (every action is enabled in
// every unfaulted state; a faulted state has none, and the walk stops there). The property replays it
// from the booted state through the engine's fast path and checks every selected invariant, the
// transition part on every step and the state part on every state, exactly as the wired engine model
// judges them (a faulted state by no-hypervisor-fault alone). It is deterministic in the walk, which
// is what lets fast-check shrink it and replay it from (seed, path).
import fc from 'fast-check';
import { DEFAULT_DOMAINS, makeUniverse, type Action, type Rc, type State } from '../../model/index.js';
import type { EngineInvariant } from '../model.js';
import { fingerprint } from '../fingerprint.js';
import { VisitedSet } from '../visited.js';
import { EXIT, UsageError } from './common.js';
import { ensureDir, resolveTarget, runNotes, selectInvariants, writeTraces, type UniverseFlags } from './explore.js';
import { universeToConfig } from './itf.js';
import { renderCounterexample } from './report.js';
import { buildTrace, type Trace } from './trace.js';
import { wire, type Wired } from './wiring.js';

export const DEFAULT_STEPS = 50;
export const DEFAULT_RUNS = 100;

export interface SimulateFlags extends UniverseFlags {
  /** Maximum operations per walk (default 50). */
  steps?: string;
  /** Number of walks (default 100). */
  runs?: string;
  /** fast-check seed (an integer); default: random, always printed. */
  seed?: string;
  /** fast-check replay path (with --seed): reproduces a failure exactly. */
  path?: string;
  invariants?: string;
  traceOut?: string;
  json?: boolean;
  mutant?: string;
  variant?: string;
}

/** The first invariant a walk violates. */
export interface WalkViolation {
  property: string;
  message: string;
  /** Operations up to and including the one after which it fails (0: the booted state). */
  at: number;
}

export interface WalkResult {
  /** Operations executed (a walk stops at a faulted state or at the first violation). */
  executed: number;
  violation: WalkViolation | null;
}

function parseCount(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`${name}: expected a whole number ≥ 1, got "${v}"`);
  }
  return Number(v);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function parseSeed(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < INT32_MIN || Number(v) > INT32_MAX) {
    throw new UsageError(`--seed: expected an integer from ${INT32_MIN} to ${INT32_MAX}, got "${v}"`);
  }
  return Number(v);
}

function parsePath(v: string | undefined, seed: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+(:\d+)*$/.test(v)) throw new UsageError(`--path: expected fast-check's counterexample path (numbers separated by ":"), got "${v}"`);
  if (seed === undefined) throw new UsageError('--path replays a failure of one seed: give --seed too');
  return v;
}

/** A random seed as fast-check's own default would pick (non-negative, to read and retype easily). */
function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The walker over a wired model: `run(path, visited)` replays the action indices from the booted
 * state and returns the first violation. States are fingerprinted into `visited` when one is given.
 */
export function makeWalker(w: Wired): (path: readonly number[], visited: VisitedSet | null) => WalkResult {
  const model = w.model;
  const stride = model.encodedSize;
  type Inv = EngineInvariant<State, Action, Rc>;
  const stateInv: Inv[] = model.invariants.filter((i) => i.state);
  const transInv: Inv[] = model.invariants.filter((i) => i.transition);
  let pre = new Uint8Array(stride);
  let post = new Uint8Array(stride);
  const fp = new Uint32Array(2);
  const see = (visited: VisitedSet | null, enc: Uint8Array) => {
    if (!visited) return;
    fingerprint(enc, stride, fp);
    visited.insert(fp[0]!, fp[1]!, -1, 0, null);
  };
  const checkState = (s: State, at: number): WalkViolation | null => {
    for (const inv of stateInv) {
      const msg = inv.state!(s);
      if (msg !== null) return { property: inv.name, message: msg, at };
    }
    return null;
  };
  return (path, visited) => {
    let s = model.init()[0]!;
    model.encode(s, pre);
    see(visited, pre);
    const v0 = checkState(s, 0);
    if (v0) return { executed: 0, violation: v0 };
    let executed = 0;
    for (let k = 0; k < path.length; k++) {
      const acts = model.actions(s);
      if (acts.length === 0) break; // a faulted state has no successors
      const a = acts[path[k]!];
      if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${path[k]} out of range (${acts.length} actions)`);
      // the fast path hands back a scratch state: read it before the next step
      const { next, result } = model.step(s, a);
      executed += 1;
      model.encode(next, post);
      const unchanged = sameBytes(pre, post);
      // transition parts first, then the state part of the successor (the engine's order)
      for (const inv of transInv) {
        const msg = inv.transition!(s, a, result, next, unchanged);
        if (msg !== null) {
          see(visited, post);
          return { executed, violation: { property: inv.name, message: msg, at: k + 1 } };
        }
      }
      const v = checkState(next, k + 1);
      see(visited, post);
      if (v) return { executed, violation: v };
      // a state of our own, rebuilt from its encoding (the engine's own route)
      s = model.decode(post);
      [pre, post] = [post, pre];
    }
    return { executed, violation: null };
  };
}

/** Shell-quotes an argument when it needs it. */
function shq(a: string): string {
  return /^[\w.,:/=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The flags of this run that change what is walked, for the reproduction command. */
function reproFlags(f: SimulateFlags): string[] {
  const d = makeUniverse();
  const args: string[] = [];
  if (f.mutant !== undefined) args.push('--mutant', f.mutant);
  if (f.variant !== undefined) args.push('--variant', f.variant);
  if (f.version !== undefined) args.push('--version', f.version);
  if (f.backend !== undefined) args.push('--backend', f.backend);
  if (f.domains !== undefined && f.domains !== DEFAULT_DOMAINS) args.push('--domains', f.domains);
  if (f.gfns !== undefined && Number(f.gfns) !== d.gfns) args.push('--gfns', f.gfns);
  if (f.spareFrames !== undefined && Number(f.spareFrames) !== d.spareFrames) args.push('--spare-frames', f.spareFrames);
  if (f.ops !== undefined) args.push('--ops', f.ops);
  if (f.destroyableDom0) args.push('--destroyable-dom0');
  if (f.preemptibleTeardown) args.push('--preemptible-teardown');
  if (f.invariants !== undefined) args.push('--invariants', f.invariants);
  if (f.steps !== undefined) args.push('--steps', f.steps);
  if (f.runs !== undefined) args.push('--runs', f.runs);
  return args;
}

export async function runSimulate(f: SimulateFlags, out: (s: string) => void, _err: (s: string) => void): Promise<number> {
  // flags first: one line for bad input before anything is loaded
  const steps = parseCount('--steps', f.steps, DEFAULT_STEPS);
  const runs = parseCount('--runs', f.runs, DEFAULT_RUNS);
  const givenSeed = parseSeed(f.seed);
  const path = parsePath(f.path, f.seed);
  const invariants = selectInvariants(f.invariants);
  if (f.traceOut !== undefined) ensureDir(f.traceOut, '--trace-out');
  const target = await resolveTarget(f);
  const { u, label } = target;
  const w = wire(u, { invariants, xen: target.xen });
  const nActions = w.xm.actions.length;
  if (nActions === 0) throw new UsageError('the universe has no actions to walk (see --ops)');
  const seed = givenSeed ?? randomSeed();
  const walk = makeWalker(w);

  // Coverage counts the walks fast-check generated, up to and including the first failing one;
  // the walks it tries while shrinking are counted apart.
  const visited = new VisitedSet(w.model.encodedSize, false);
  let shrinking = false;
  let steps0 = 0;
  let walks0 = 0;
  let firstFailure: { run: number; length: number; property: string } | null = null;
  let shrinkWalks = 0;
  let shrinkSteps = 0;
  const t0 = performance.now();
  // size 'max': walk lengths spread over 0..steps (fast-check's default size, "small", would keep
  // every walk to at most 10 operations whatever --steps says)
  const walks = fc.array(fc.integer({ min: 0, max: nActions - 1 }), { maxLength: steps, size: 'max' });
  const property = fc.property(walks, (p: number[]) => {
    if (shrinking) {
      const r = walk(p, null);
      shrinkWalks += 1;
      shrinkSteps += r.executed;
      return r.violation === null;
    }
    const r = walk(p, visited);
    walks0 += 1;
    steps0 += r.executed;
    if (r.violation !== null) {
      shrinking = true;
      firstFailure = { run: walks0, length: p.length, property: r.violation.property };
    }
    return r.violation === null;
  });
  let details: fc.RunDetails<[number[]]>;
  try {
    details = fc.check(property, { numRuns: runs, seed, path, endOnFailure: false });
  } catch (e) {
    // fast-check throws only on its parameters (a failing walk is a result): here, a path that
    // does not exist for this seed, --steps and universe
    if (path !== undefined && /replay/i.test((e as Error).message)) {
      throw new UsageError(`--path ${path} is not a counterexample path of seed ${seed} with these flags (same --steps, --invariants and universe as the failing run?)`);
    }
    throw e;
  }
  const elapsedMs = performance.now() - t0;
  // fast-check checks a path only as far as it needs to: one whose last step is past the end of its
  // shrink list replays nothing at all
  if (path !== undefined && details.numRuns === 0) {
    throw new UsageError(`--path ${path} replays no walk of seed ${seed} with these flags (same --steps, --invariants and universe as the failing run?)`);
  }

  let violation: { trace: Trace; file: string | null; original: { run: number; length: number; property: string }; replayPath: string } | null = null;
  if (details.failed) {
    if (details.counterexample === null) throw new Error(`fast-check stopped without a counterexample (interrupted: ${details.interrupted})`);
    const [shrunk] = details.counterexample;
    // the property is deterministic: the shrunk walk fails again, here, where we can see how
    const r = walk(shrunk, null);
    if (r.violation === null) {
      // not a violation: the model threw (an internal error), or the walk is not deterministic
      if (details.errorInstance instanceof Error && !/Property failed by returning false/.test(details.errorInstance.message)) throw details.errorInstance;
      throw new Error(`the shrunk walk ${shrunk.join(',')} no longer fails: the property is not deterministic`);
    }
    const cut = shrunk.slice(0, r.violation.at);
    const trace = buildTrace(w, { name: r.violation.property, depth: cut.length, root: 0, path: cut, message: r.violation.message });
    const files = f.traceOut === undefined ? null : writeTraces(f.traceOut, u, [trace], target);
    violation = {
      trace,
      file: files?.get(trace.property) ?? null,
      original: firstFailure ?? { run: details.numRuns, length: shrunk.length, property: r.violation.property },
      replayPath: details.counterexamplePath,
    };
  }

  const exitCode = violation ? EXIT.violation : EXIT.ok;
  const repro = violation ? ['checker', 'simulate', '--seed', String(details.seed), '--path', violation.replayPath, ...reproFlags(f)].map(shq).join(' ') : null;
  const notes = runNotes(u, label, violation ? [violation.trace.message ?? ''] : []);
  const cfg = universeToConfig(u);

  if (f.json) {
    const t = violation?.trace;
    const j = {
      tool: 'checker',
      command: 'simulate',
      configuration: { ...cfg, mutant: target.mutant ?? null, variant: target.variant ?? null },
      actions: nActions,
      invariants: invariants.map((i) => i.name),
      maxSteps: steps,
      runsRequested: runs,
      seed: details.seed,
      path: path ?? null,
      runs: details.numRuns,
      steps: steps0,
      distinctStates: visited.size,
      stepsCounted: 'generated walks up to and including the first failing one; shrinking is counted under shrinking',
      shrinking: { shrinks: details.numShrinks, walks: shrinkWalks, steps: shrinkSteps },
      elapsedMs: Math.round(elapsedMs),
      violation:
        violation && t
          ? {
              property: t.property,
              message: t.message ?? null,
              depth: t.depth,
              foundInRun: violation.original.run,
              originalLength: violation.original.length,
              path: t.path,
              steps: t.steps.map((s) => ({ step: s.index, actionIndex: s.actionIndex, action: s.action.op, args: s.args, rc: s.rc, rcText: s.rcText })),
              file: violation.file,
              replay: { seed: details.seed, path: violation.replayPath, command: repro },
            }
          : null,
      notes,
      exitCode,
    };
    out(JSON.stringify(j, null, 2) + '\n');
    return exitCode;
  }

  const lines: string[] = [];
  lines.push(
    `checker simulate: ${u.version} on ${u.backend}; domains ${cfg.domains}; ${u.gfns} gfns each, ${u.domains.length * u.gfns + u.spareFrames} frames; ` +
      `${nActions} actions; ${runs} walks of at most ${steps} operations; seed ${details.seed}${path !== undefined ? `, path ${path}` : ''}`,
  );
  lines.push('');
  if (violation) {
    const o = violation.original;
    const t = violation.trace;
    lines.push(
      `${path !== undefined ? `path ${path}` : `run ${o.run}`}: ${o.property} violated on a walk of ${o.length} operations; ` +
        `shrunk in ${details.numShrinks} shrink steps (${shrinkWalks} walks tried) to ${t.depth} operation${t.depth === 1 ? '' : 's'}`,
    );
    lines.push(`${plural(details.numRuns, 'run')}, ${plural(steps0, 'step')}, ${visited.size} distinct states up to the violation (shrinking not counted)`);
  } else {
    lines.push(`${plural(details.numRuns, 'run')}, ${plural(steps0, 'step')}, ${visited.size} distinct states: no invariant violated`);
  }
  lines.push(`time ${(elapsedMs / 1000).toFixed(2)} s`);
  for (const note of notes) lines.push('', `note: ${note}`);
  if (violation) {
    lines.push('', ...renderCounterexample(violation.trace, violation.file ?? undefined));
    lines.push('', `reproduce: ${repro}`);
  }
  out(lines.join('\n') + '\n');
  return exitCode;
}
