// Shared by test/steps.test.ts and test/slow/steps-boundaries.ts.
import { expect } from 'vitest';
import {
  IN_FLIGHT,
  callPre,
  encodeState,
  decodeState,
  makeUniverse,
  makeXenModel,
  statesEqual,
  type Action,
  type State,
} from '../model/index.js';
import { bootSteps } from '../model/steps.js';

/** Every state the atomic model reaches within `depth` (faulted ones included), in BFS order. */
function atomicReachable(version: string, backend: string, depth: number, ops?: string): State[] {
  const xm = makeXenModel(makeUniverse({ version, backend, ops }));
  const seen = new Set<string>();
  const out: State[] = [];
  let level = [xm.init()];
  const key = (s: State) => Buffer.from(xm.encode(s)).toString('base64');
  seen.add(key(level[0]!));
  out.push(level[0]!);
  for (let d = 0; d < depth; d++) {
    const next: State[] = [];
    for (const s of level) {
      for (const a of xm.enabled(s)) {
        const n = xm.applyFast(s, a).next;
        const k = key(n);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(n);
        out.push(n);
      }
    }
    level = next;
  }
  return out;
}

/** Strips the steps part: the state as the atomic model holds it. */
function base(s: State): State {
  const { steps: _steps, ...rest } = s;
  return rest;
}

/**
 * From each state the atomic model reaches within `depth`, each hypercall run in segments by one
 * vCPU until it returns: the atomic model's state and return code, every p2m lock released, no
 * reference left in flight; each state in between survives encode/decode; and at the last segment
 * the state before the call that transition properties judge (callPre: the state before the last
 * segment with the call's earlier changes undone) is, with nothing else running, exactly the state
 * the call started from.
 */
export function boundaryEquivalence(version: string, backend: string, depth: number, ops?: string): number {
  const atomic = makeXenModel(makeUniverse({ version, backend, ops }));
  const u1 = makeUniverse({ version, backend, ops, granularity: 'steps', vcpus: 1 });
  const steps = makeXenModel(u1);
  const buf = new Uint8Array(steps.encodedSize);
  let checked = 0;
  for (const s of atomicReachable(version, backend, depth, ops)) {
    if (s.fault !== null) continue;
    const start: State = { ...s, steps: bootSteps(u1) };
    atomic.actions.forEach((a: Action) => {
      const want = atomic.applyFast(s, a);
      let cur = start;
      let rc: number | null = IN_FLIGHT;
      let segments = 0;
      while (rc === IN_FLIGHT) {
        const acts = steps.enabled(cur);
        const b = cur.steps!.vcpus[0]!.op === -1 ? acts.find((x) => sameCall(x, a))! : acts[0]!;
        const r = steps.applyFast(cur, b);
        const before = cur;
        cur = r.next;
        rc = r.rc;
        if (rc !== IN_FLIGHT && cur.fault === null) {
          const pre = base(callPre(u1, steps.ctx.xen, before, b, cur));
          if (!statesEqual(pre, s)) expect(pre, `${version}/${backend} ${JSON.stringify(a)}: the call's state before`).toEqual(s);
        }
        segments += 1;
        if (segments > 200) throw new Error('a hypercall that never returns');
        const back = decodeState(u1, encodeState(cur, buf));
        if (!statesEqual(back, cur)) throw new Error(`${version}/${backend}: decode(encode(s)) differs mid-hypercall`);
        if (cur.fault !== null) break;
      }
      if (rc !== want.rc || !statesEqual(base(cur), want.next)) {
        expect({ rc, state: base(cur) }, `${version}/${backend} ${JSON.stringify(a)}`).toEqual({ rc: want.rc, state: want.next });
      }
      if (cur.fault === null) {
        const st = cur.steps!;
        expect(st.holder.every((h) => h === -1) && st.vcpus[0]!.op === -1 && st.vcpus[0]!.delta.every((x) => x === 0)).toBe(true);
        expect(st.tlb.every((r) => r.every((x) => x === 0))).toBe(true);
      }
      checked += 1;
    });
  }
  return checked;
}

function sameCall(x: Action, a: Action): boolean {
  const { vcpu: _v, ...rest } = x;
  return JSON.stringify(rest) === JSON.stringify(a);
}

