// What the page is sent: states as views (every field as text beside what the drawing needs), traces
// with their steps, changes, ledgers and per-state verdicts, the operations enabled in a state, and a
// breadth-first search for the nearest violation from a state.
import { exploreAsync, type ExploreResult } from '../engine/index.js';
import {
  describeEvent,
  describeFault,
  diffStates,
  domainName,
  formatOwner,
  formatRc,
  frameCount,
  type Action,
  type Change,
  type Owner,
  type Rc,
  type State,
  type Universe,
} from '../../model/index.js';
import { foreignHolders, INVARIANTS } from '../../invariants/index.js';
import { buildTrace, stepText, type Trace } from '../trace/build.js';
import { replayCommand } from '../trace/command.js';
import { holdsText, renderLedger, stopText } from '../trace/report.js';
import { wire } from '../xen-model.js';
import { inFlightHeld, INTERLEAVING_FIELDS, interleavingChanges, interleavingOf, vcpuOf } from './interleaving.js';
import type {
  ChangeView,
  DomainView,
  EntryView,
  Field,
  FrameView,
  OperationView,
  SearchProgress,
  SearchView,
  StateView,
  SuccessorsView,
  TraceView,
  UniverseView,
  Violation,
} from './protocol.js';
import { badRequest, type Resolved } from './targets.js';

/** A value of a field the page does not know, as text. */
function asText(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ownerText(u: Universe, o: unknown): string {
  if (o === null || o === 'cow' || (typeof o === 'number' && o >= 0 && o < u.domains.length)) return formatOwner(u, o as Owner);
  return asText(o);
}

function frameView(u: Universe, s: State, f: unknown, m: number): FrameView {
  const r = isObj(f) ? f : {};
  const fields: Field[] = Object.entries(r).map(([k, v]) => {
    if (k === 'owner') return [k, ownerText(u, v)];
    if (k === 'm2p') return [k, v === null ? 'none' : typeof v === 'number' ? `gfn ${v}` : asText(v)];
    return [k, asText(v)];
  });
  const count = typeof r.count === 'number' ? r.count : null;
  const inFlight = inFlightHeld(s, m);
  const held = count !== null && typeof r.allocated === 'boolean' ? (r.allocated ? 1 : 0) + foreignHolders(s, m).length + inFlight : null;
  return {
    index: m,
    owner: ownerText(u, r.owner ?? null),
    ownerDomain: typeof r.owner === 'number' ? r.owner : null,
    free: r.owner === null,
    count,
    held,
    inFlight,
    fields,
  };
}

function domainView(u: Universe, d: unknown, i: number): DomainView {
  const r = isObj(d) ? d : {};
  const fields: Field[] = Object.entries(r).map(([k, v]) => {
    if (k === 'relinquish' && isObj(v) && 'phase' in v) return [k, `${asText(v.phase)}@${asText(v.cursor)}`];
    return [k, asText(v)];
  });
  const cfg = u.domains[i];
  return {
    index: i,
    name: cfg ? domainName(u, i) : `domain ${i}`,
    kind: cfg?.kind ?? '?',
    hardware: cfg?.hardware ?? false,
    life: typeof r.life === 'string' ? r.life : null,
    fields,
  };
}

function entryView(e: unknown, g: number): EntryView | null {
  if (e === null || e === undefined) return null;
  const r = isObj(e) ? e : {};
  const type = typeof r.type === 'string' ? r.type : null;
  const mfn = typeof r.mfn === 'number' ? r.mfn : null;
  const extra = Object.entries(r)
    .filter(([k]) => k !== 'type' && k !== 'mfn')
    .map(([k, v]) => `, ${k} ${asText(v)}`)
    .join('');
  const text = isObj(e) ? `${type ?? '?'}(mfn ${mfn ?? '?'}${extra})` : asText(e);
  return { gfn: g, type, mfn, foreign: type === 'map_foreign', text };
}

const KNOWN_TOP = new Set(['frames', 'domains', 'p2m', 'fault', ...INTERLEAVING_FIELDS]);

/**
 * A state as the page draws it: frames, domains and p2m rows by index, the interleaving (steps
 * granularity; `actions`: the atomic ones, which a call in flight is one of), and any other field as text.
 */
export function stateView(u: Universe, s: State, actions: readonly Action[] = []): StateView {
  const raw = s as unknown as Record<string, unknown>;
  const other: Field[] = Object.entries(raw)
    .filter(([k, v]) => !KNOWN_TOP.has(k) && v !== undefined)
    .map(([k, v]) => [k, asText(v)]);
  const rows = Array.isArray(raw.p2m) ? (raw.p2m as unknown[]) : [];
  const p2m = rows.map((row, d) => {
    if (Array.isArray(row)) return row.map((e, g) => entryView(e, g));
    other.push([`p2m[${domainName(u, d)}]`, asText(row)]);
    return [];
  });
  let fault: string | null = null;
  if (s.fault !== null && s.fault !== undefined) fault = describeFault(s.fault) ?? asText(s.fault);
  return {
    frames: (Array.isArray(raw.frames) ? raw.frames : []).map((f, m) => frameView(u, s, f, m)),
    domains: (Array.isArray(raw.domains) ? raw.domains : []).map((d, i) => domainView(u, d, i)),
    p2m,
    fault,
    other,
    interleaving: interleavingOf(u, actions, s),
  };
}

function changeView(c: Change): ChangeView {
  const out: ChangeView = { cell: c.cell, before: c.before, after: c.after };
  if (c.frame !== undefined) out.frame = c.frame;
  if (c.domain !== undefined) out.domain = c.domain;
  return out;
}

/** The cells two states differ in: the model's, then the interleaving's. */
function changesBetween(u: Universe, a: State, b: State, va: StateView, vb: StateView): ChangeView[] {
  return [...diffStates(u, a, b).map(changeView), ...interleavingChanges(va.interleaving, vb.interleaving)];
}

export function universeView(u: Universe): UniverseView {
  return {
    version: u.version,
    backend: u.backend,
    domains: u.domains.map((d, i) => ({ name: domainName(u, i), kind: d.kind, hardware: d.hardware })),
    gfns: u.gfns,
    frames: frameCount(u),
  };
}

/** The frames and p2m entries a violation's message names ("frame 4", "p2m[dom1][0]"), to mark them in the drawing. */
export function namedCells(u: Universe, message: string): Pick<Violation, 'frames' | 'entries'> {
  const frames = new Set<number>();
  for (const m of message.matchAll(/\bframe (\d+)/g)) frames.add(Number(m[1]));
  const entries: Violation['entries'] = [];
  for (const m of message.matchAll(/p2m\[dom(\d+)\]\[(\d+)\]/g)) {
    const domain = u.domains.findIndex((d) => d.id === Number(m[1]));
    const gfn = Number(m[2]);
    if (domain >= 0 && !entries.some((e) => e.domain === domain && e.gfn === gfn)) entries.push({ domain, gfn });
  }
  return { frames: [...frames].filter((f) => f < frameCount(u)), entries };
}

interface Judged {
  action: Action;
  rc: Rc;
}

/**
 * Every invariant's verdict on a step (on the state alone for the booted one), as the explorer gives
 * it: through the wired model, which judges a faulted state by no-hypervisor-fault alone and, with
 * steps granularity, a transition property only on a whole call.
 */
function verdicts(r: Resolved, pre: State | null, step: Judged | null, post: State, names: ReadonlySet<string> | null = null): Violation[] {
  const out: Violation[] = [];
  for (const inv of r.w.model.invariants) {
    if (names !== null && !names.has(inv.name)) continue;
    const m = (pre !== null && step !== null ? inv.transition?.(pre, step.action, step.rc, post, false) : null) ?? inv.state?.(post) ?? null;
    if (m !== null) out.push({ name: inv.name, message: m, ...namedCells(r.target.u, m) });
  }
  return out;
}

export function traceView(kind: TraceView['kind'], title: string, source: string | null, r: Resolved, t: Trace, property: string | null, from: number | null = null): TraceView {
  const u = r.target.u;
  const actions = r.w.xm.actions;
  const frames = t.states[0]!.frames.length;
  const states = t.states.map((s) => stateView(u, s, actions));
  return {
    kind,
    title,
    source,
    target: r.spec,
    label: r.target.label,
    universe: universeView(u),
    property,
    message: property === null ? null : (t.message ?? null),
    subjectFrame: property === null ? null : t.frame,
    path: t.path,
    states,
    steps: t.steps.map((s) => ({
      index: s.index,
      actionIndex: s.actionIndex,
      text: s.text,
      op: s.action.op,
      args: s.args,
      rc: s.rc,
      rcText: s.rcText,
      changes: [...s.changes.map(changeView), ...interleavingChanges(states[s.index - 1]!.interleaving, states[s.index]!.interleaving)],
      ledger: s.ledger.map((e) => ({ frame: e.frame, delta: e.delta, text: describeEvent(e) })),
      vcpu: vcpuOf(s.action),
    })),
    violations: t.states.map((s, k) => (k === 0 ? verdicts(r, null, null, s) : verdicts(r, t.states[k - 1]!, t.steps[k - 1]!, s))),
    ledgers: Array.from({ length: frames }, (_, m) => renderLedger(t, m)),
    from,
    replay: replayCommand(u, t.path, { mutant: r.target.mutant, variantFile: r.target.variant, explicit: true }),
  };
}

/**
 * A path of action indices from the booted state, checked: each index among the actions enabled in
 * its state (with steps granularity they depend on the state), no step from a faulted state.
 */
export function checkPath(r: Resolved, raw: unknown): number[] {
  if (!Array.isArray(raw) || !raw.every((x) => Number.isInteger(x) && x >= 0)) throw badRequest('path: expected a list of action indices');
  if (raw.length > 10_000) throw badRequest('path: at most 10,000 steps');
  const path = raw as number[];
  const xm = r.w.xm;
  let s = xm.init();
  path.forEach((ai, k) => {
    if (s.fault !== null) throw badRequest(`path: step ${k + 1} starts from a faulted state, which has no successors`);
    const acts = xm.enabled(s);
    if (ai >= acts.length) throw badRequest(`path: step ${k + 1}: expected an action index from 0 to ${acts.length - 1}, got ${ai}`);
    s = xm.applyFast(s, acts[ai]!).next;
  });
  return path;
}

/** The trace of a path (with the ledger): a walk taken by hand. */
export function walkTrace(r: Resolved, path: number[]): Trace {
  return buildTrace(r.w, { name: '', depth: path.length, root: 0, path, message: undefined });
}

/** The state a checked path leads to, and the step into it. */
function stateAt(r: Resolved, path: number[]): { pre: State | null; last: Judged | null; s: State } {
  const xm = r.w.xm;
  let pre: State | null = null;
  let last: Judged | null = null;
  let s = xm.init();
  for (const ai of path) {
    const a = xm.enabled(s)[ai]!;
    const st = xm.applyFast(s, a);
    pre = s;
    last = { action: a, rc: st.rc };
    s = st.next;
  }
  return { pre, last, s };
}

/** Every operation enabled in the state: its return code, what it changes, what it would violate. */
export function successors(r: Resolved, path: number[]): SuccessorsView {
  const { pre, last, s } = stateAt(r, path);
  const xm = r.w.xm;
  const u = xm.u;
  const already = verdicts(r, pre, last, s);
  if (s.fault !== null) return { enabled: false, already, operations: [] };
  const here = stateView(u, s, xm.actions);
  const operations: OperationView[] = xm.enabled(s).map((a, i) => {
    // the public (immer) route, as traces take it
    const { next, rc } = xm.apply(s, a);
    return {
      actionIndex: i,
      text: stepText(u, a, rc, next),
      op: a.op,
      rc,
      rcText: formatRc(rc),
      changes: changesBetween(u, s, next, here, stateView(u, next, xm.actions)),
      violates: verdicts(r, s, { action: a, rc }, next).filter((v) => !already.some((x) => x.name === v.name)),
    };
  });
  return { enabled: true, already, operations };
}

/** Deepest search the page may ask for: with steps granularity a depth counts segments (xen-4.19's race is 25 deep). */
export const MAX_SEARCH_DEPTH = 40;
/** Distinct states a search may store before it stops, unless `checker serve --max-states` says otherwise. */
export const SEARCH_MAX_STATES = 1_000_000;

export interface SearchOptions {
  maxStates: number;
  /** Polled while the search runs: true stops it (its client went away, or the server stops). */
  shouldStop: () => boolean;
  progress?: (p: SearchProgress) => void;
}

/**
 * What a search checked, in the command line's words (checker/trace/report.ts): the violation and
 * its depth from the state, or how deep every other invariant holds, and why it stopped.
 */
function searchSummary(res: ExploreResult, depth: number, from: number, found: { name: string; depth: number } | undefined): string {
  if (found) return `${found.name} violated at depth ${found.depth} from step ${from}; ${stopText(res, depth)}`;
  return `from step ${from}, every invariant not already violated there ${holdsText(res)}; ${stopText(res, depth)}`;
}

/**
 * The shortest path from the state to a violation of an invariant the state does not already
 * violate: the checker's breadth-first search (sleep sets with steps granularity, as explore does),
 * started from this state instead of the booted one (the wired model with its initial state
 * replaced), then rebuilt as a trace from the booted state.
 */
export async function search(r: Resolved, path: number[], depth: number, title: string, o: SearchOptions): Promise<SearchView> {
  const { pre, last, s } = stateAt(r, path);
  const already = verdicts(r, pre, last, s);
  const rest = INVARIANTS.filter((i) => !already.some((v) => v.name === i.name));
  const u = r.target.u;
  const w = wire(u, { xen: r.target.xen, invariants: rest, encoded: r.target.variant === undefined });
  const fromHere = { ...w.model, init: () => [s] };
  const res = await exploreAsync(fromHere, {
    maxDepth: depth,
    stopAtFirst: true,
    maxStates: o.maxStates,
    shouldStop: o.shouldStop,
    sleepSets: u.granularity === 'steps',
    progressIntervalMs: 250,
    progress: o.progress && ((p) => o.progress!({ depth: p.depth, distinct: p.distinct, generated: p.generated, elapsedMs: Math.round(p.elapsedMs) })),
  });
  const first = [...res.violations].sort((a, b) => a.depth - b.depth)[0];
  const lastLevel = res.levels[res.levels.length - 1]!;
  const base = {
    depth,
    distinct: res.distinct,
    already,
    stopped: res.stopped === 'stop-at-first' ? null : res.stopped,
    fixpoint: res.fixpoint,
    complete: lastLevel.complete ? lastLevel.depth : lastLevel.depth - 1,
    summary: searchSummary(res, depth, path.length, first),
    elapsedMs: Math.round(res.elapsedMs),
  };
  if (!first) return { found: null, distance: null, ...base };
  const full = [...path, ...first.path];
  const t = buildTrace(r.w, { name: first.name, depth: full.length, root: 0, path: full, message: first.message });
  return { found: traceView('search', title, null, r, t, first.name, path.length), distance: first.path.length, ...base };
}

/**
 * The property a walk is a counterexample of: the one asked for, or else the first violated along
 * it (the earliest step; at one step, in the invariants' order), with its message where it first
 * fails. Null when nothing is violated along the walk.
 */
export function walkViolation(r: Resolved, t: Trace, wanted: string | null): { property: string; message: string; at: number } | null {
  const names = wanted === null ? null : new Set([wanted]);
  for (let k = 0; k < t.states.length; k++) {
    const v = k === 0 ? verdicts(r, null, null, t.states[0]!, names) : verdicts(r, t.states[k - 1]!, t.steps[k - 1]!, t.states[k]!, names);
    if (v.length > 0) return { property: v[0]!.name, message: v[0]!.message, at: k };
  }
  return null;
}
