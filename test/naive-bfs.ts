// An independent, naive explorer: plain BFS over JSON-serialised states, sharing only the model's
// public `apply` (immer), its action list and its booted state (test/naive-explorer.test.ts and
// test/slow/ compare the engine with it).
import { makeXenModel, type State, type Universe } from '../model/index.js';

/** JSON with object keys sorted, so that two equal states serialise alike whatever their key order. */
function canonical(s: State): string {
  return JSON.stringify(s, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export interface NaiveLevels {
  distinct: number[];
  generated: number[];
  faulted: number;
}

export function naiveExplore(u: Universe, depth: number): NaiveLevels {
  const xm = makeXenModel(u);
  const init = xm.init();
  const seen = new Set<string>([canonical(init)]);
  let frontier: State[] = [init];
  const distinct = [1];
  const generated = [1];
  let faulted = init.fault === null ? 0 : 1;
  for (let d = 1; d <= depth; d++) {
    const next: State[] = [];
    let gen = 0;
    for (const s of frontier) {
      if (s.fault !== null) continue; // a faulted state has no successors
      for (const a of xm.actions) {
        const { next: n } = xm.apply(s, a);
        gen += 1;
        const k = canonical(n);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(n);
        if (n.fault !== null) faulted += 1;
      }
    }
    if (next.length === 0) break;
    distinct.push(next.length);
    generated.push(gen);
    frontier = next;
  }
  return { distinct, generated, faulted };
}

