// The canonical encoding of a state: a fixed-length byte array (frames, domains, p2m entries, fault
// in a fixed order). State identity is this encoding (or its 64-bit fingerprint).
import { frameCount, type Universe } from './config.js';
import { FAULT_KINDS, LIVES, RELINQUISH_PHASES as PHASES, P2M_TYPES, type Entry, type Frame, type P2mType, type State } from './types.js';


export function encodedSize(u: Universe): number {
  return frameCount(u) * 4 + u.domains.length * 4 + u.domains.length * u.gfns * 2 + 2;
}

const LIFE_CODE: Record<string, number> = Object.fromEntries(LIVES.map((l, i) => [l, i]));
const TYPE_CODE: Record<string, number> = Object.fromEntries(P2M_TYPES.map((t, i) => [t, i + 1]));
const PHASE_CODE: Record<string, number> = Object.fromEntries(PHASES.map((p, i) => [p, i + 1]));
const FAULT_CODE: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, i + 1]));

/**
 * Writes the encoding of `s` into `out`; with `perm`, the encoding of `s` with domain d renamed
 * perm[d] (symmetry reduction), without building that state.
 */
export function encodeState(s: State, out: Uint8Array, perm?: readonly number[]): Uint8Array {
  let i = 0;
  for (const f of s.frames) {
    out[i++] = f.owner === null ? 0 : f.owner === 'cow' ? 1 : (perm ? perm[f.owner]! : f.owner) + 2;
    out[i++] = f.count;
    out[i++] = f.allocated ? 1 : 0;
    out[i++] = f.m2p === null ? 0 : f.m2p + 1;
  }
  const order = perm ? inverse(perm) : null;
  for (let j = 0; j < s.domains.length; j++) {
    const d = s.domains[order ? order[j]! : j]!;
    out[i++] = LIFE_CODE[d.life]!;
    out[i++] = d.logDirty ? 1 : 0;
    out[i++] = d.relinquish === null ? 0 : PHASE_CODE[d.relinquish.phase]!;
    out[i++] = d.relinquish === null ? 0 : d.relinquish.cursor;
  }
  for (let j = 0; j < s.p2m.length; j++) {
    const row = s.p2m[order ? order[j]! : j]!;
    for (const e of row) {
      out[i++] = e === null ? 0 : TYPE_CODE[e.type]!;
      out[i++] = e === null ? 0 : e.mfn;
    }
  }
  out[i++] = s.fault === null ? 0 : FAULT_CODE[s.fault.kind]!;
  out[i++] = s.fault === null || s.fault.frame === null ? 0 : s.fault.frame + 1;
  return out;
}

const inverses = new WeakMap<readonly number[], number[]>();

/** The inverse of a permutation, computed once per permutation (symmetry encodes on the hot path). */
function inverse(perm: readonly number[]): number[] {
  let inv = inverses.get(perm);
  if (inv === undefined) {
    inv = new Array<number>(perm.length);
    for (let d = 0; d < perm.length; d++) inv[perm[d]!] = d;
    inverses.set(perm, inv);
  }
  return inv;
}

export function decodeState(u: Universe, b: Uint8Array): State {
  let i = 0;
  const frames: Frame[] = [];
  for (let m = 0; m < frameCount(u); m++) {
    const o = b[i++]!;
    const count = b[i++]!;
    const allocated = b[i++]! === 1;
    const m2p = b[i++]!;
    frames.push({ owner: o === 0 ? null : o === 1 ? 'cow' : o - 2, count, allocated, m2p: m2p === 0 ? null : m2p - 1 });
  }
  const domains: State['domains'] = [];
  for (let d = 0; d < u.domains.length; d++) {
    const life = LIVES[b[i++]!]!;
    const logDirty = b[i++]! === 1;
    const phase = b[i++]!;
    const cursor = b[i++]!;
    domains.push({ life, logDirty, relinquish: phase === 0 ? null : { phase: PHASES[phase - 1]!, cursor } });
  }
  const p2m: (Entry | null)[][] = [];
  for (let d = 0; d < u.domains.length; d++) {
    const row: (Entry | null)[] = [];
    for (let g = 0; g < u.gfns; g++) {
      const t = b[i++]!;
      const mfn = b[i++]!;
      row.push(t === 0 ? null : { type: P2M_TYPES[t - 1] as P2mType, mfn });
    }
    p2m.push(row);
  }
  const fk = b[i++]!;
  const ff = b[i++]!;
  return { frames, domains, p2m, fault: fk === 0 ? null : { kind: FAULT_KINDS[fk - 1]!, frame: ff === 0 ? null : ff - 1 } };
}
