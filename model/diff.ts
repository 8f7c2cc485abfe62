// The cells that changed between two states, rendered as a person reads them:
// `frames[3].count 2 → 1`, `p2m[dom1][0] map_foreign(mfn 3) → empty`.
import { domainName, type Universe } from './config.js';
import { describeFault } from './fault.js';
import type { Entry, Owner, State } from './types.js';

export interface Change {
  /** The cell's path: `frames[3].count`, `domains[dom1].life`, `p2m[dom1][0]`, `fault`. */
  cell: string;
  before: string;
  after: string;
  /** Frames and domains the cell belongs to (for projections). */
  frame?: number;
  domain?: number;
}

export function formatOwner(u: Universe, o: Owner): string {
  return o === null ? 'free' : o === 'cow' ? 'dom_cow' : domainName(u, o);
}

export function formatEntry(e: Entry | null): string {
  return e === null ? 'empty' : `${e.type}(mfn ${e.mfn}${e.order === 1 ? ', superpage' : ''})`;
}

export function diffStates(u: Universe, a: State, b: State): Change[] {
  const out: Change[] = [];
  a.frames.forEach((fa, m) => {
    const fb = b.frames[m]!;
    const cell = (k: string) => `frames[${m}].${k}`;
    if (fa.owner !== fb.owner) out.push({ cell: cell('owner'), before: formatOwner(u, fa.owner), after: formatOwner(u, fb.owner), frame: m });
    if (fa.count !== fb.count) out.push({ cell: cell('count'), before: String(fa.count), after: String(fb.count), frame: m });
    if (fa.allocated !== fb.allocated) out.push({ cell: cell('allocated'), before: String(fa.allocated), after: String(fb.allocated), frame: m });
    if (fa.m2p !== fb.m2p) out.push({ cell: cell('m2p'), before: fa.m2p === null ? 'none' : `gfn ${fa.m2p}`, after: fb.m2p === null ? 'none' : `gfn ${fb.m2p}`, frame: m });
  });
  a.domains.forEach((da, d) => {
    const db = b.domains[d]!;
    const name = domainName(u, d);
    if (da.life !== db.life) out.push({ cell: `domains[${name}].life`, before: da.life, after: db.life, domain: d });
    if (da.logDirty !== db.logDirty) out.push({ cell: `domains[${name}].logDirty`, before: String(da.logDirty), after: String(db.logDirty), domain: d });
    const ra = da.relinquish === null ? 'none' : `${da.relinquish.phase}@${da.relinquish.cursor}`;
    const rb = db.relinquish === null ? 'none' : `${db.relinquish.phase}@${db.relinquish.cursor}`;
    if (ra !== rb) out.push({ cell: `domains[${name}].relinquish`, before: ra, after: rb, domain: d });
    if (da.tables !== db.tables) out.push({ cell: `domains[${name}].tables`, before: String(da.tables), after: String(db.tables), domain: d });
    if (da.pool !== db.pool) out.push({ cell: `domains[${name}].pool`, before: String(da.pool), after: String(db.pool), domain: d });
  });
  a.p2m.forEach((row, d) => {
    row.forEach((ea, g) => {
      const eb = b.p2m[d]![g]!;
      const fa = formatEntry(ea);
      const fb = formatEntry(eb);
      if (fa !== fb) {
        const c: Change = { cell: `p2m[${domainName(u, d)}][${g}]`, before: fa, after: fb, domain: d };
        const frame = eb?.mfn ?? ea?.mfn;
        if (frame !== undefined) c.frame = frame;
        out.push(c);
      }
    });
  });
  if (a.armedFailures !== b.armedFailures) out.push({ cell: 'armedFailures', before: String(a.armedFailures), after: String(b.armedFailures) });
  const fa = a.fault === null ? 'none' : describeFault(a.fault);
  const fb = b.fault === null ? 'none' : describeFault(b.fault);
  if (fa !== fb) out.push({ cell: 'fault', before: fa, after: fb });
  return out;
}

export function formatChange(c: Change): string {
  return `${c.cell} ${c.before} → ${c.after}`;
}
