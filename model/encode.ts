// The canonical encoding of a state: a fixed-length byte array (frames, domains, p2m entries, fault
// in a fixed order). State identity is this encoding (or its 64-bit fingerprint).
import { frameCount, type Universe } from './config.js';
import { FAULT_KINDS } from './fault.js';
import { decodeSteps, encodeSteps, stepsEncodedSize } from './steps.js';
import { LIVES, RELINQUISH_PHASES as PHASES, P2M_TYPES, type Entry, type Frame, type Life, type P2mType, type RelinquishPhase, type State } from './types.js';


export function encodedSize(u: Universe): number {
  return atomicEncodedSize(u) + (u.granularity === 'steps' ? stepsEncodedSize(u) : 0);
}

/** The part every granularity shares (the whole encoding with `atomic`). */
export function atomicEncodedSize(u: Universe): number {
  return frameCount(u) * 4 + u.domains.length * 4 + u.domains.length * u.gfns * 2 + 4;
}

// A domain's flag byte: log-dirty, tables gone, pool emptied (the booted state's flags are all 0).
// (Exported for model/encoded.ts, which reads and writes states in this encoding.)
export const LOG_DIRTY = 1;
export const NO_TABLES = 2;
export const NO_POOL = 4;
// An entry's type byte: its code, plus this for half of a superpage.
export const SUPERPAGE = 8;

// Codes by switch: on the hot path (every successor is encoded), a switch over interned strings is
// several times cheaper than a keyed lookup. Each code is the value's index in its list (LIVES, ...),
// plus one where 0 means "none"; a test checks the two agree.
export function lifeCode(l: Life): number {
  switch (l) {
    case 'alive':
      return 0;
    case 'dying':
      return 1;
    case 'dead':
      return 2;
    case 'destroyed':
      return 3;
    default:
      return badValue('life', l);
  }
}

export function typeCode(t: P2mType): number {
  switch (t) {
    case 'ram_rw':
      return 1;
    case 'ram_logdirty':
      return 2;
    case 'ram_shared':
      return 3;
    case 'map_foreign':
      return 4;
    default:
      return badValue('p2m type', t);
  }
}

export function phaseCode(p: RelinquishPhase): number {
  switch (p) {
    case 'mappings':
      return 1;
    case 'paging':
      return 2;
    case 'memory':
      return 3;
    case 'done':
      return 4;
    default:
      return badValue('relinquish phase', p);
  }
}

const FAULT_CODE: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, i + 1]));

/**
 * A fault kind's code, in two bytes: the model's own kinds by their place in FAULT_KINDS; a kind a
 * variant raises by a 15-bit hash of its text (0x8000 set), the same in every thread that raises it,
 * so that worker threads agree on the encoding. Two kinds of one run whose hashes meet are refused
 * (renaming one fixes it); the texts seen are kept to decode them.
 */
export function faultCode(kind: string): number {
  const builtin = FAULT_CODE[kind];
  if (builtin !== undefined) return builtin;
  let h = 0x811c9dc5;
  for (let i = 0; i < kind.length; i++) h = Math.imul(h ^ kind.charCodeAt(i), 0x01000193);
  const code = 0x8000 | ((h ^ (h >>> 15)) & 0x7fff);
  const seen = VARIANT_FAULTS.get(code);
  if (seen === undefined) VARIANT_FAULTS.set(code, kind);
  else if (seen !== kind) throw new EncodingRangeError(`the fault kinds "${seen}" and "${kind}" have one encoding: rename one of them`);
  return code;
}
const VARIANT_FAULTS = new Map<number, string>();

export function faultKindOf(code: number): string {
  if (code < 0x8000) return FAULT_KINDS[code - 1] ?? badValue('fault code', code);
  return VARIANT_FAULTS.get(code) ?? `a variant's fault #${code.toString(16)}`;
}

/**
 * A value that does not fit its byte is an error, never a wrap: a count of 258 stored as 2 would make
 * two different states one (the explorer would skip states it never saw) and would let an edited
 * trace pass the replay check. A field is checked where it is written: one AND and one comparison.
 */
export class EncodingRangeError extends RangeError {
  override name = 'EncodingRangeError';
}

function badValue(what: string, v: unknown): never {
  throw new EncodingRangeError(`the state cannot be encoded: ${what} ${JSON.stringify(v) ?? String(v)} is not a value of the model`);
}

export function byte(v: number, what: string): number {
  return v === (v & 0xff) ? v : badValue(what, v);
}

/**
 * Writes the encoding of `s` into `out`; with `perm`, the encoding of `s` with domain d renamed
 * perm[d] (symmetry reduction), without building that state.
 */
export function encodeState(s: State, out: Uint8Array, perm?: readonly number[]): Uint8Array {
  const frames = s.frames;
  let i = 0;
  for (let m = 0; m < frames.length; m++) {
    const f = frames[m]!;
    const o = f.owner;
    out[i] = o === null ? 0 : o === 'cow' ? 1 : byte((perm ? perm[o]! : o) + 2, 'frame owner');
    out[i + 1] = byte(f.count, 'frame count');
    out[i + 2] = f.allocated ? 1 : 0;
    out[i + 3] = f.m2p === null ? 0 : byte(f.m2p + 1, 'm2p gfn');
    i += 4;
  }
  const order = perm ? inverse(perm) : null;
  const domains = s.domains;
  for (let j = 0; j < domains.length; j++) {
    const d = domains[order ? order[j]! : j]!;
    const r = d.relinquish;
    out[i] = lifeCode(d.life);
    out[i + 1] = (d.logDirty ? LOG_DIRTY : 0) | (d.tables ? 0 : NO_TABLES) | (d.pool ? 0 : NO_POOL);
    out[i + 2] = r === null ? 0 : phaseCode(r.phase);
    out[i + 3] = r === null ? 0 : byte(r.cursor, 'relinquish cursor');
    i += 4;
  }
  const p2m = s.p2m;
  for (let j = 0; j < p2m.length; j++) {
    const row = p2m[order ? order[j]! : j]!;
    for (let g = 0; g < row.length; g++) {
      const e = row[g]!;
      if (e === null) {
        out[i] = 0;
        out[i + 1] = 0;
      } else {
        out[i] = e.order === 1 ? typeCode(e.type) + SUPERPAGE : typeCode(e.type);
        out[i + 1] = byte(e.mfn, 'p2m mfn');
      }
      i += 2;
    }
  }
  const fault = s.fault;
  const code = fault === null ? 0 : faultCode(fault.kind);
  out[i] = code >>> 8;
  out[i + 1] = code & 0xff;
  out[i + 2] = fault === null || fault.frame === null ? 0 : byte(fault.frame + 1, 'fault frame');
  out[i + 3] = byte(s.armedFailures, 'armed allocation failures');
  if (s.steps !== undefined) encodeSteps(s.steps, out, i + 4);
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
    const flags = b[i++]!;
    const phase = b[i++]!;
    const cursor = b[i++]!;
    domains.push({
      life,
      logDirty: (flags & LOG_DIRTY) !== 0,
      relinquish: phase === 0 ? null : { phase: PHASES[phase - 1]!, cursor },
      tables: (flags & NO_TABLES) === 0,
      pool: (flags & NO_POOL) === 0,
    });
  }
  const p2m: (Entry | null)[][] = [];
  for (let d = 0; d < u.domains.length; d++) {
    const row: (Entry | null)[] = [];
    for (let g = 0; g < u.gfns; g++) {
      const t = b[i++]!;
      const mfn = b[i++]!;
      const type = P2M_TYPES[(t & ~SUPERPAGE) - 1] as P2mType;
      row.push(t === 0 ? null : t & SUPERPAGE ? { type, mfn, order: 1 } : { type, mfn });
    }
    p2m.push(row);
  }
  const fk = (b[i]! << 8) | b[i + 1]!;
  i += 2;
  const ff = b[i++]!;
  const armedFailures = b[i++]!;
  const s: State = { frames, domains, p2m, armedFailures, fault: fk === 0 ? null : { kind: faultKindOf(fk), frame: ff === 0 ? null : ff - 1 } };
  if (u.granularity === 'steps') s.steps = decodeSteps(u, b, i);
  return s;
}
