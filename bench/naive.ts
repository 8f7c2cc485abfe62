// The naive baseline the explorer is measured against: immer states (the public apply), a
// JSON.stringify key per state, a Set<string> of keys, an array of states per level, every state
// invariant checked on each new state. The same exploration, without any of the engine's work.
import { makeXenModel, type State, type Universe } from '../model/index.js';
import { INVARIANTS } from '../invariants/index.js';

export interface NaiveResult {
  levels: number[];
  distinct: number;
  generated: number;
  elapsedMs: number;
}

export function naiveExplore(u: Universe, depth: number): NaiveResult {
  const t0 = performance.now();
  const m = makeXenModel(u);
  const pc = { u, xen: m.ctx.xen };
  const init = m.init();
  const seen = new Set<string>([JSON.stringify(init)]);
  const levels = [1];
  let frontier: State[] = [init];
  let generated = 1;
  for (let k = 1; k <= depth && frontier.length > 0; k++) {
    const next: State[] = [];
    for (const s of frontier) {
      if (s.fault !== null) continue;
      for (const a of m.actions) {
        const { next: n } = m.apply(s, a);
        generated += 1;
        const key = JSON.stringify(n);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push(n);
        for (const inv of INVARIANTS) if (inv.check && (n.fault === null || inv.name === 'no-hypervisor-fault')) inv.check(n, pc);
      }
    }
    levels.push(next.length);
    frontier = next;
  }
  return { levels, distinct: seen.size, generated, elapsedMs: performance.now() - t0 };
}
