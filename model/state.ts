// The booted initial state (MODEL.md §1).
import { frameCount, type Universe } from './config.js';
import type { Entry, Frame, State } from './types.js';

/**
 * Every domain alive; each of its gfns populated with its own frame (ram_rw, m2p = that gfn),
 * frames assigned in order (domains by id, then gfns); spare frames free.
 */
export function bootState(u: Universe): State {
  const frames: Frame[] = [];
  const p2m: (Entry | null)[][] = [];
  u.domains.forEach((_, d) => {
    const row: (Entry | null)[] = [];
    for (let g = 0; g < u.gfns; g++) {
      row.push({ type: 'ram_rw', mfn: frames.length });
      frames.push({ owner: d, count: 1, allocated: true, m2p: g });
    }
    p2m.push(row);
  });
  while (frames.length < frameCount(u)) frames.push({ owner: null, count: 0, allocated: false, m2p: null });
  return {
    frames,
    domains: u.domains.map(() => ({ life: 'alive', logDirty: false, relinquish: null })),
    p2m,
    fault: null,
  };
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
      copy[g] = e === null ? null : { type: e.type, mfn: e.mfn };
    }
    p2m[d] = copy;
  }
  return {
    frames,
    domains: s.domains.map((d) => ({
      life: d.life,
      logDirty: d.logDirty,
      relinquish: d.relinquish === null ? null : { phase: d.relinquish.phase, cursor: d.relinquish.cursor },
    })),
    p2m,
    fault: s.fault === null ? null : { kind: s.fault.kind, frame: s.fault.frame },
  };
}
