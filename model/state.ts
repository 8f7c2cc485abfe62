// The booted initial state (MODEL.md §1).
import { frameCount, type Universe } from './config.js';
import type { Entry, Frame, State } from './types.js';
import { bootSteps, cloneSteps, stepsEqual } from './steps.js';

/**
 * Every domain alive, with its p2m tables and paging pool; each of its gfns populated with its own
 * frame (ram_rw, m2p = that gfn), frames assigned in order (domains by id, then gfns); spare frames
 * free. With --superpages each aligned gfn pair is one order-1 entry (its frames are consecutive and,
 * the gfn count being even, aligned).
 */
export function bootState(u: Universe): State {
  const frames: Frame[] = [];
  const p2m: (Entry | null)[][] = [];
  u.domains.forEach((_, d) => {
    const row: (Entry | null)[] = [];
    for (let g = 0; g < u.gfns; g++) {
      row.push(u.superpages ? { type: 'ram_rw', mfn: frames.length, order: 1 } : { type: 'ram_rw', mfn: frames.length });
      frames.push({ owner: d, count: 1, allocated: true, m2p: g });
    }
    p2m.push(row);
  });
  while (frames.length < frameCount(u)) frames.push({ owner: null, count: 0, allocated: false, m2p: null });
  const s: State = {
    frames,
    domains: u.domains.map(() => ({ life: 'alive', logDirty: false, relinquish: null, tables: true, pool: true })),
    p2m,
    armedFailures: 0,
    fault: null,
  };
  if (u.granularity === 'steps') s.steps = bootSteps(u);
  return s;
}

/** A plain deep copy, for the explorer's hot path (immer's produce is the public route). */
export function cloneState(s: State): State {
  const frames = new Array<Frame>(s.frames.length);
  for (let i = 0; i < frames.length; i++) {
    const f = s.frames[i]!;
    frames[i] = { owner: f.owner, count: f.count, allocated: f.allocated, m2p: f.m2p };
  }
  const p2m = new Array<(Entry | null)[]>(s.p2m.length);
  for (let d = 0; d < p2m.length; d++) {
    const row = s.p2m[d]!;
    const copy = new Array<Entry | null>(row.length);
    for (let g = 0; g < row.length; g++) {
      const e = row[g]!;
      copy[g] = e === null ? null : e.order === 1 ? { type: e.type, mfn: e.mfn, order: 1 } : { type: e.type, mfn: e.mfn };
    }
    p2m[d] = copy;
  }
  const out: State = {
    frames,
    domains: s.domains.map((d) => ({
      life: d.life,
      logDirty: d.logDirty,
      relinquish: d.relinquish === null ? null : { phase: d.relinquish.phase, cursor: d.relinquish.cursor },
      tables: d.tables,
      pool: d.pool,
    })),
    p2m,
    armedFailures: s.armedFailures,
    fault: s.fault === null ? null : { kind: s.fault.kind, frame: s.fault.frame },
  };
  if (s.steps !== undefined) out.steps = cloneSteps(s.steps);
  return out;
}

/**
 * Copies `src` into `dst`, a state of the same universe, reusing dst's objects. p2m entries are
 * shared: the model never mutates an entry in place, it replaces it.
 */
export function copyStateInto(dst: State, src: State): void {
  const n = src.frames.length;
  for (let i = 0; i < n; i++) {
    const a = src.frames[i]!;
    const b = dst.frames[i]!;
    b.owner = a.owner;
    b.count = a.count;
    b.allocated = a.allocated;
    b.m2p = a.m2p;
  }
  for (let d = 0; d < src.domains.length; d++) {
    const a = src.domains[d]!;
    const b = dst.domains[d]!;
    b.life = a.life;
    b.logDirty = a.logDirty;
    b.relinquish = a.relinquish === null ? null : { phase: a.relinquish.phase, cursor: a.relinquish.cursor };
    b.tables = a.tables;
    b.pool = a.pool;
    const ra = src.p2m[d]!;
    const rb = dst.p2m[d]!;
    for (let g = 0; g < ra.length; g++) rb[g] = ra[g]!;
  }
  dst.armedFailures = src.armedFailures;
  dst.fault = src.fault;
  if (src.steps !== undefined) dst.steps = cloneSteps(src.steps);
}

/** Whether two states of one universe are equal, cell by cell (no allocation). */
export function statesEqual(a: State, b: State): boolean {
  if (a.fault !== b.fault && (a.fault === null || b.fault === null || a.fault.kind !== b.fault.kind || a.fault.frame !== b.fault.frame)) return false;
  if (a.armedFailures !== b.armedFailures) return false;
  if (a.steps !== undefined || b.steps !== undefined) {
    if (a.steps === undefined || b.steps === undefined || !stepsEqual(a.steps, b.steps)) return false;
  }
  for (let i = 0; i < a.frames.length; i++) {
    const x = a.frames[i]!;
    const y = b.frames[i]!;
    if (x.owner !== y.owner || x.count !== y.count || x.allocated !== y.allocated || x.m2p !== y.m2p) return false;
  }
  for (let d = 0; d < a.domains.length; d++) {
    const x = a.domains[d]!;
    const y = b.domains[d]!;
    if (x.life !== y.life || x.logDirty !== y.logDirty || x.tables !== y.tables || x.pool !== y.pool) return false;
    const rx = x.relinquish;
    const ry = y.relinquish;
    if (rx !== ry && (rx === null || ry === null || rx.phase !== ry.phase || rx.cursor !== ry.cursor)) return false;
    const ea = a.p2m[d]!;
    const eb = b.p2m[d]!;
    for (let g = 0; g < ea.length; g++) {
      const p = ea[g]!;
      const q = eb[g]!;
      if (p !== q && (p === null || q === null || p.type !== q.type || p.mfn !== q.mfn || p.order !== q.order)) return false;
    }
  }
  return true;
}
