// What the page is sent: states as views (every field as text beside what the drawing needs), traces
// with their steps, changes, ledgers and per-state verdicts, the operations enabled in a state, and a
// breadth-first search for the nearest violation from a state.
import { exploreAsync } from '../engine/index.js';
import {
  describeEvent,
  describeFault,
  diffStates,
  domainName,
  formatAction,
  formatOwner,
  formatRc,
  type Change,
  type Owner,
  type State,
  type Universe,
} from '../../model/index.js';
import { FAULT_INVARIANT, foreignHolders, INVARIANTS, judgeStep, type Invariant } from '../../invariants/index.js';
import { buildTrace, type Trace } from '../trace/build.js';
import { renderLedger } from '../trace/report.js';
import { wire } from '../xen-model.js';
import type {
  ChangeView,
  DomainView,
  EntryView,
  Field,
  FrameView,
  OperationView,
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
  const held = count !== null && typeof r.allocated === 'boolean' ? (r.allocated ? 1 : 0) + foreignHolders(s, m).length : null;
  return {
    index: m,
    owner: ownerText(u, r.owner ?? null),
    ownerDomain: typeof r.owner === 'number' ? r.owner : null,
    free: r.owner === null,
    count,
    held,
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

const KNOWN_TOP = new Set(['frames', 'domains', 'p2m', 'fault']);

/** A state as the page draws it: frames, domains and p2m rows by index, and any other field as text. */
export function stateView(u: Universe, s: State): StateView {
  const raw = s as unknown as Record<string, unknown>;
  const other: Field[] = Object.entries(raw)
    .filter(([k]) => !KNOWN_TOP.has(k))
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
  };
}

function changeView(c: Change): ChangeView {
  const out: ChangeView = { cell: c.cell, before: c.before, after: c.after };
  if (c.frame !== undefined) out.frame = c.frame;
  if (c.domain !== undefined) out.domain = c.domain;
  return out;
}

export function universeView(u: Universe): UniverseView {
  return {
    version: u.version,
    backend: u.backend,
    domains: u.domains.map((d, i) => ({ name: domainName(u, i), kind: d.kind, hardware: d.hardware })),
    gfns: u.gfns,
    frames: u.domains.length * u.gfns + u.spareFrames,
  };
}

/** Every invariant's verdict on a step (on the state alone for the booted one). */
function verdicts(r: Resolved, pre: State | null, step: { action: Trace['steps'][number]['action']; rc: Trace['steps'][number]['rc'] } | null, post: State, invs: readonly Invariant[] = INVARIANTS): Violation[] {
  const pc = r.w.pc;
  const out: Violation[] = [];
  for (const inv of invs) {
    const m = pre === null || step === null ? (post.fault !== null && inv.name !== FAULT_INVARIANT ? null : (inv.check?.(post, pc) ?? null)) : judgeStep(inv, pre, step.action, step.rc, post, pc);
    if (m !== null) out.push({ name: inv.name, message: m });
  }
  return out;
}

export function traceView(kind: TraceView['kind'], title: string, source: string | null, r: Resolved, t: Trace, property: string | null, from: number | null = null): TraceView {
  const u = r.target.u;
  const frames = t.states[0]!.frames.length;
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
    states: t.states.map((s) => stateView(u, s)),
    steps: t.steps.map((s) => ({
      index: s.index,
      actionIndex: s.actionIndex,
      text: s.text,
      op: s.action.op,
      args: s.args,
      rc: s.rc,
      rcText: s.rcText,
      changes: s.changes.map(changeView),
      ledger: s.ledger.map((e) => ({ frame: e.frame, delta: e.delta, text: describeEvent(e) })),
    })),
    violations: t.states.map((s, k) => (k === 0 ? verdicts(r, null, null, s) : verdicts(r, t.states[k - 1]!, t.steps[k - 1]!, s))),
    ledgers: Array.from({ length: frames }, (_, m) => renderLedger(t, m)),
    from,
  };
}

/** A path of action indices from the booted state, checked: every index exists, no step from a faulted state. */
export function checkPath(r: Resolved, raw: unknown): number[] {
  const n = r.w.xm.actions.length;
  if (!Array.isArray(raw) || !raw.every((x) => Number.isInteger(x) && x >= 0 && x < n)) {
    throw badRequest(`path: expected a list of action indices from 0 to ${n - 1}`);
  }
  if (raw.length > 10_000) throw badRequest('path: at most 10,000 steps');
  const path = raw as number[];
  let s = r.w.xm.init();
  path.forEach((ai, k) => {
    if (s.fault !== null) throw badRequest(`path: step ${k + 1} starts from a faulted state, which has no successors`);
    s = r.w.xm.applyFast(s, r.w.xm.actions[ai]!).next;
  });
  return path;
}

/** The trace of a path (with the ledger): a walk taken by hand. */
export function walkTrace(r: Resolved, path: number[]): Trace {
  return buildTrace(r.w, { name: '', depth: path.length, root: 0, path, message: undefined });
}

/** The state a checked path leads to, and the step into it. */
function stateAt(r: Resolved, path: number[]): { pre: State | null; last: { action: Trace['steps'][number]['action']; rc: Trace['steps'][number]['rc'] } | null; s: State } {
  const xm = r.w.xm;
  let pre: State | null = null;
  let last = null;
  let s = xm.init();
  for (const ai of path) {
    const a = xm.actions[ai]!;
    const st = xm.applyFast(s, a);
    pre = s;
    last = { action: a, rc: st.rc };
    s = st.next;
  }
  return { pre, last, s };
}

/** Every operation from the state: its return code, what it changes, what it would violate. */
export function successors(r: Resolved, path: number[]): SuccessorsView {
  const { pre, last, s } = stateAt(r, path);
  const xm = r.w.xm;
  const u = xm.u;
  const already = verdicts(r, pre, last, s);
  if (s.fault !== null) return { enabled: false, already, operations: [] };
  const operations: OperationView[] = xm.actions.map((a, i) => {
    // the public (immer) route, as traces take it
    const { next, rc } = xm.apply(s, a);
    return {
      actionIndex: i,
      text: formatAction(u, a),
      op: a.op,
      rc,
      rcText: formatRc(rc),
      changes: diffStates(u, s, next).map(changeView),
      violates: verdicts(r, s, { action: a, rc }, next).filter((v) => !already.some((x) => x.name === v.name)),
    };
  });
  return { enabled: true, already, operations };
}

export const MAX_SEARCH_DEPTH = 12;
/** Distinct states a search may store before it stops (a few tens of MiB). */
export const SEARCH_MAX_STATES = 1_000_000;

/**
 * The shortest path from the state to a violation of an invariant the state does not already
 * violate: the checker's breadth-first search, started from this state instead of the booted one
 * (the wired model with its initial state replaced), then rebuilt as a trace from the booted state.
 */
export async function search(r: Resolved, path: number[], depth: number, title: string): Promise<SearchView> {
  const { pre, last, s } = stateAt(r, path);
  const already = verdicts(r, pre, last, s);
  const rest = INVARIANTS.filter((i) => !already.some((v) => v.name === i.name));
  const w = wire(r.target.u, { xen: r.target.xen, invariants: rest, encoded: r.target.variant === undefined });
  const fromHere = { ...w.model, init: () => [s] };
  const res = await exploreAsync(fromHere, { maxDepth: depth, stopAtFirst: true, maxStates: SEARCH_MAX_STATES });
  const first = [...res.violations].sort((a, b) => a.depth - b.depth)[0];
  const base = { depth, distinct: res.distinct, already, stopped: res.stopped === 'stop-at-first' ? null : res.stopped, fixpoint: res.fixpoint };
  if (!first) return { found: null, distance: null, ...base };
  const full = [...path, ...first.path];
  const t = buildTrace(r.w, { name: first.name, depth: full.length, root: 0, path: full, message: first.message });
  return { found: traceView('search', title, null, r, t, first.name, path.length), distance: first.path.length, ...base };
}
