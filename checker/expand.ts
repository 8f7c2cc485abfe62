// What a worker thread does with a slice of a level. Expanding: every successor of the slice's states,
// in (parent, action) order, that is not already in the visited set of earlier levels and not a
// repeat within the slice, with the first violation and witness of each transition property.
// Checking: the state properties of a slice of the level's new states, once each state is known to be
// new (so no state is checked twice, as the single-threaded explorer checks each once).
import { fingerprint } from './fingerprint.js';
import type { Model } from './model.js';
import { hasFingerprint, VisitedSet } from './visited.js';
import { identityEncoder } from './engine.js';

export interface Found {
  /** invariant or witness */
  kind: 'violation' | 'witness';
  name: string;
  /** Global id of the parent state, and the action index (a transition), or -1 for a state. */
  parent: number;
  action: number;
  /** Global id of the state (a state property), or -1 for a transition. */
  id: number;
  message?: string;
}

export interface CheckInput {
  /** The level's new states, encoded. */
  frontier: Uint8Array;
  stride: number;
  /** Global id of frontier[0]. */
  firstId: number;
  from: number;
  to: number;
  doneNames: readonly string[];
}

/** The first violation and witness of each state property among the states [from, to). */
export function checkSlice<S, A, R>(model: Model<S, A, R>, inp: CheckInput): Found[] {
  const found: Found[] = [];
  const done = new Set(inp.doneNames);
  const invs = model.invariants.filter((i) => i.state && !done.has(i.name));
  const wits = model.witnesses.filter((w) => w.state && !done.has(w.name));
  for (let i = inp.from; i < inp.to && (invs.length > 0 || wits.length > 0); i++) {
    const s = model.decode(inp.frontier.subarray(i * inp.stride, (i + 1) * inp.stride));
    const id = inp.firstId + i;
    for (let k = invs.length - 1; k >= 0; k--) {
      const msg = invs[k]!.state!(s);
      if (msg === null) continue;
      found.push({ kind: 'violation', name: invs[k]!.name, parent: -1, action: -1, id, message: msg });
      invs.splice(k, 1);
    }
    for (let k = wits.length - 1; k >= 0; k--) {
      if (!wits[k]!.state!(s)) continue;
      found.push({ kind: 'witness', name: wits[k]!.name, parent: -1, action: -1, id });
      wits.splice(k, 1);
    }
  }
  return found;
}

export interface SliceResult {
  /** Per candidate: fingerprint hi, lo, parent id, action index. */
  meta: Uint32Array;
  /** Per candidate: its encoding (stride bytes). */
  encodings: Uint8Array;
  count: number;
  generated: number;
  found: Found[];
}

export interface SliceInput {
  frontier: Uint8Array;
  stride: number;
  /** Global id of frontier[0]. */
  levelStart: number;
  from: number;
  to: number;
  table: Uint32Array;
  mask: number;
  /** Names already violated or reached in earlier levels. */
  doneNames: readonly string[];
  /** Identify symmetric states. */
  symmetry: boolean;
}

export function expandSlice<S, A, R>(model: Model<S, A, R>, inp: SliceInput): SliceResult {
  const { stride } = inp;
  const fp = new Uint32Array(2);
  const scratch = new Uint8Array(stride);
  const local = new VisitedSet(stride, false, 1 << 10);
  const encode = identityEncoder(model, inp.symmetry);
  let meta = new Uint32Array(1024 * 4);
  let encodings = new Uint8Array(1024 * stride);
  let count = 0;
  let generated = 0;
  const found: Found[] = [];
  // Per property, whether it is already found (earlier level, or earlier in this slice): flat
  // boolean arrays, as the single-threaded loop keeps them. An invariant with a state part and a
  // transition part shares one flag.
  const invNames = model.invariants.map((i) => i.name);
  const invDone = invNames.map((n) => inp.doneNames.includes(n));
  const witNames = model.witnesses.map((w) => w.name);
  const witDone = witNames.map((n) => inp.doneNames.includes(n));
  const transInv = model.invariants.map((inv, k) => ({ inv, k })).filter(({ inv }) => inv.transition);
  const transWit = model.witnesses.map((w, k) => ({ w, k })).filter(({ w }) => w.transition);
  const noteViolation = (k: number, parent: number, action: number, message: string) => {
    invDone[k] = true;
    found.push({ kind: 'violation', name: invNames[k]!, parent, action, id: -1, message });
  };
  const noteWitness = (k: number, parent: number, action: number) => {
    witDone[k] = true;
    found.push({ kind: 'witness', name: witNames[k]!, parent, action, id: -1 });
  };

  for (let i = inp.from; i < inp.to; i++) {
    const parentId = inp.levelStart + i;
    const parentEnc = inp.frontier.subarray(i * stride, (i + 1) * stride);
    const s = model.decode(parentEnc);
    const acts = model.actions(s);
    for (let ai = 0; ai < acts.length; ai++) {
      const a = acts[ai]!;
      const { next: n, result } = model.step(s, a);
      generated += 1;
      encode(n, scratch);
      let unchanged = true;
      for (let b = 0; b < stride; b++) {
        if (scratch[b] !== parentEnc[b]) {
          unchanged = false;
          break;
        }
      }
      for (let t = 0; t < transInv.length; t++) {
        const { inv, k } = transInv[t]!;
        if (invDone[k]) continue;
        const msg = inv.transition!(s, a, result, n, unchanged);
        if (msg !== null) noteViolation(k, parentId, ai, msg);
      }
      for (let t = 0; t < transWit.length; t++) {
        const { w, k } = transWit[t]!;
        if (!witDone[k] && w.transition!(s, a, result, n)) noteWitness(k, parentId, ai);
      }
      if (unchanged) continue;
      fingerprint(scratch, stride, fp);
      const hi = fp[0]!;
      const lo = fp[1]!;
      if (hasFingerprint(inp.table, inp.mask, hi, lo)) continue;
      if (local.insert(hi, lo, 0, 0, null) < 0) continue;
      if (count * 4 === meta.length) {
        const m2 = new Uint32Array(meta.length * 2);
        m2.set(meta);
        meta = m2;
        const e2 = new Uint8Array(encodings.length * 2);
        e2.set(encodings);
        encodings = e2;
      }
      meta[count * 4] = hi;
      meta[count * 4 + 1] = lo;
      meta[count * 4 + 2] = parentId;
      meta[count * 4 + 3] = ai;
      encodings.set(scratch, count * stride);
      count += 1;
    }
  }
  return { meta, encodings, count, generated, found };
}
