// A long counterexample for the page to step through, written by the checker's own ITF writer.
import { INVARIANTS } from '../../invariants/index.js';
import { makeUniverse, type Action } from '../../model/index.js';
import { buildTrace } from '../../checker/trace/build.js';
import { traceToItf } from '../../checker/trace/itf.js';
import { TOOL } from '../../checker/paths.js';
import { wire } from '../../checker/xen-model.js';

/**
 * A long counterexample: a walk of `steps` state-changing operations on the seed, chosen by a fixed
 * pseudo-random sequence (no fault on the way), that ends in a state violating an invariant, as ITF.
 * `checker simulate` shrinks what it finds to a few steps; this is the length of an unshrunk walk.
 */
export function longTrace(steps: number): { itf: unknown; property: string } {
  const u = makeUniverse({ version: 'seed' });
  const w = wire(u);
  const xm = w.xm;
  const enc = (s: Parameters<typeof xm.encode>[0]) => xm.encode(s).join(',');
  for (let seed = 1; seed <= 50; seed++) {
    let rng = seed;
    const rand = (n: number) => {
      rng = (Math.imul(rng, 1103515245) + 12345) & 0x7fffffff;
      return rng % n;
    };
    let s = xm.init();
    const path: number[] = [];
    while (path.length < steps) {
      const here = enc(s);
      const moves = xm.actions
        .map((a, i) => ({ i, step: xm.applyFast(s, a) }))
        .filter(({ step }) => step.next.fault === null && enc(step.next) !== here);
      if (moves.length === 0) break;
      const m = moves[rand(moves.length)]!;
      path.push(m.i);
      s = m.step.next;
    }
    if (path.length < steps) continue;
    const inv = INVARIANTS.find((i) => i.check?.(s, w.pc) != null);
    if (!inv) continue;
    const t = buildTrace(w, { name: inv.name, depth: steps, root: 0, path, message: inv.check!(s, w.pc)! });
    const itf = traceToItf({
      u,
      property: inv.name,
      message: t.message ?? '',
      path,
      states: t.states,
      actions: t.steps.map((x) => x.action as Action),
      rcs: t.steps.map((x) => x.rc),
      tool: TOOL,
    });
    return { itf, property: inv.name };
  }
  throw new Error(`no walk of ${steps} steps ended in a violation`);
}
