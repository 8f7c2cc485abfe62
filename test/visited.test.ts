// The visited-set structures the explorers share: fingerprint tables (growing, cleared, taken over by
// another owner), trace links, the parallel explorer's partitions and its cutting of a level into
// slices.
import { describe, expect, it } from 'vitest';
import type { Segment } from '../checker/engine/index.js';
import { NEW_STATE } from '../checker/engine/index.js';
import { cutSlices, sliceSizes } from '../checker/engine/index.js';
import { PartitionedVisited, partitionOf } from '../checker/engine/index.js';
import { fingerprint } from '../checker/engine/index.js';
import { FingerprintSet, TraceLinks, VisitedSet } from '../checker/engine/index.js';

/** Deterministic pseudo-random 32-bit values. */
function* words(seed: number): Generator<number> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    yield x;
  }
}

function pairs(n: number, seed: number): [number, number][] {
  const g = words(seed);
  return Array.from({ length: n }, () => [g.next().value, g.next().value]);
}

describe('FingerprintSet', () => {
  it('adds each fingerprint once, through many growths, and forgets nothing', () => {
    const set = new FingerprintSet(16);
    const fps = pairs(50_000, 7);
    for (const [hi, lo] of fps) expect(set.add(hi, lo)).toBe(true);
    for (const [hi, lo] of fps) expect(set.add(hi, lo)).toBe(false);
    expect(set.used).toBe(50_000);
    for (const [hi, lo] of fps) expect(set.has(hi, lo)).toBe(true);
    expect(set.has(1, 2)).toBe(fps.some(([h, l]) => h === 1 && l === 2));
    // load at most 3/4
    expect(set.used).toBeLessThanOrEqual(((set.mask + 1) * 3) / 4);
  });

  it('stores the all-zero fingerprint, which is also the empty-slot mark', () => {
    const set = new FingerprintSet(16);
    expect(set.has(0, 0)).toBe(false);
    expect(set.add(0, 0)).toBe(true);
    expect(set.has(0, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
    expect(set.used).toBe(1);
  });

  it('clear empties it; reserve makes room in one step and keeps the contents', () => {
    const set = new FingerprintSet(16);
    for (const [hi, lo] of pairs(1000, 3)) set.add(hi, lo);
    set.clear();
    expect(set.used).toBe(0);
    for (const [hi, lo] of pairs(1000, 3)) expect(set.has(hi, lo)).toBe(false);
    for (const [hi, lo] of pairs(1000, 3)) set.add(hi, lo);
    set.reserve(100_000);
    const slots = set.mask + 1;
    expect(slots * 0.75).toBeGreaterThanOrEqual(100_000);
    for (const [hi, lo] of pairs(1000, 3)) expect(set.has(hi, lo)).toBe(true);
    for (const [hi, lo] of pairs(99_000, 4)) set.add(hi, lo);
    expect(set.mask + 1).toBe(slots); // no growth on the way
  });

  it('over() takes over a shared table: what one owner added, the other sees and extends', () => {
    const a = new FingerprintSet(16, true);
    expect(a.fps.buffer).toBeInstanceOf(SharedArrayBuffer);
    const first = pairs(500, 11);
    for (const [hi, lo] of first) a.add(hi, lo);
    const b = FingerprintSet.over(a.fps, a.used, true);
    for (const [hi, lo] of first) expect(b.add(hi, lo)).toBe(false);
    for (const [hi, lo] of pairs(5000, 12)) b.add(hi, lo);
    expect(b.fps.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const [hi, lo] of first) expect(b.has(hi, lo)).toBe(true);
  });
});

describe('TraceLinks and VisitedSet', () => {
  it('paths and roots follow the parent links back to the initial state', () => {
    const links = new TraceLinks(16);
    const r0 = links.add(-1, 0);
    const r1 = links.add(-1, 1);
    const a = links.add(r1, 7);
    const b = links.add(a, 3);
    for (let k = 0; k < 100; k++) links.add(r0, k); // growth on the way
    expect(links.path(b)).toEqual([7, 3]);
    expect(links.root(b)).toBe(1);
    expect(links.path(r0)).toEqual([]);
    expect(links.root(r0)).toBe(0);
    expect(links.size).toBe(104);
  });

  it('fingerprint and exact modes give the same ids for the same insertions', () => {
    const stride = 8;
    const fp = new VisitedSet(stride, false, 16);
    const exact = new VisitedSet(stride, true, 16);
    const g = words(5);
    const out = new Uint32Array(2);
    for (let k = 0; k < 3000; k++) {
      const v = g.next().value % 1000; // repeats
      const enc = new Uint8Array(stride);
      new DataView(enc.buffer).setUint32(0, v);
      fingerprint(enc, stride, out);
      const a = fp.insert(out[0]!, out[1]!, k, 0, enc);
      const b = exact.insert(out[0]!, out[1]!, k, 0, enc);
      expect(a).toBe(b);
    }
    expect(fp.size).toBe(exact.size);
    expect(fp.size).toBeGreaterThan(900);
  });
});

describe('the parallel explorer\'s partitions', () => {
  it('a fingerprint lives in exactly one partition, the same for any caller', () => {
    for (const n of [1, 2, 3, 4]) {
      const v = new PartitionedVisited(n);
      const fps = pairs(4000, n);
      fps.forEach(([hi, lo], k) => v.insert(hi, lo, -1, k));
      expect(v.size).toBe(4000);
      expect(v.fingerprints()).toBe(4000);
      for (const [hi, lo] of fps) {
        const p = partitionOf(hi, n);
        v.parts.forEach((t, q) => expect(t.has(hi, lo)).toBe(q === p));
      }
      // with several partitions, each holds some
      if (n > 1) for (const t of v.parts) expect(t.used).toBeGreaterThan(4000 / n / 2);
    }
  });

  it('slice sizes cover the level, shrink towards the end, and stay few', () => {
    for (const workers of [1, 2, 4]) {
      for (const total of [1, 5, 63, 64, 1000, 654_656, 7_250_017]) {
        const sizes = sliceSizes(total, workers);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
        for (const x of sizes) expect(x).toBeGreaterThan(0);
        for (let k = 1; k < sizes.length; k++) expect(sizes[k]!).toBeLessThanOrEqual(sizes[k - 1]!);
        expect(sizes.length).toBeLessThanOrEqual(workers * 16 + 1);
        if (total >= 1000 * workers) {
          expect(sizes.length).toBeGreaterThan(workers); // something to balance with
          expect(sizes[sizes.length - 1]!).toBeLessThanOrEqual(total / (workers * 8)); // a small last slice
        }
      }
    }
  });

  it('cutSlices covers every state of the level once, in id order, in slices of the given sizes', () => {
    // segments of candidates, some flagged new; ids are consecutive across segments
    const g = words(99);
    const segments: Segment[] = [];
    let firstId = 1000;
    for (const count of [0, 17, 5, 40, 1, 0, 23]) {
      const meta = new Uint32Array(count * 4);
      let states = 0;
      for (let c = 0; c < count; c++) {
        if (g.next().value % 3 !== 0) {
          meta[c * 4 + 3] = NEW_STATE;
          states += 1;
        }
      }
      segments.push({ meta, encodings: new Uint8Array(0), count, states, firstId });
      firstId += states;
    }
    const total = segments.reduce((n, s) => n + s.states, 0);
    for (const n of [1, 2, 3, 4, 7, total]) {
      const sizes = Array.from({ length: n }, (_, k) => Math.floor(((k + 1) * total) / n) - Math.floor((k * total) / n));
      const slices = cutSlices(segments, sizes);
      expect(slices).toHaveLength(n);
      const ids: number[] = [];
      for (const [k, pieces] of slices.entries()) {
        let size = 0;
        for (const p of pieces) {
          expect(p.from).toBeGreaterThanOrEqual(0);
          expect(p.to).toBeLessThanOrEqual(p.states);
          expect(p.from).toBeLessThan(p.to);
          for (let r = p.from; r < p.to; r++) ids.push(p.firstId + r);
          size += p.to - p.from;
        }
        expect(size).toBe(sizes[k]);
      }
      expect(ids).toEqual(Array.from({ length: total }, (_, k) => 1000 + k));
    }
  });
});
