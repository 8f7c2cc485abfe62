// 64-bit fingerprints of canonical encodings, as two 32-bit halves (murmur3-style mixing with two
// seeds). TLC keeps 64-bit fingerprints too; the collision estimate is reported at the end of a run.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Writes [hi, lo] of the fingerprint of b[0..n) into out. */
export function fingerprint(b: Uint8Array, n: number, out: Uint32Array): void {
  let h1 = 0x9747b28c;
  let h2 = 0x5bd1e995 ^ n;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let j = Math.imul(k ^ 0x7f4a7c15, 0x85ebca77);
    j = (j << 17) | (j >>> 15);
    h2 ^= j;
    h2 = (h2 << 11) | (h2 >>> 21);
    h2 = (Math.imul(h2, 9) + 0x165667b1) | 0;
  }
  let k = 0;
  for (let s = 0; i < n; i++, s += 8) k |= b[i]! << s;
  h1 ^= Math.imul(((Math.imul(k, 0xcc9e2d51) << 15) | 0), 0x1b873593);
  h2 ^= Math.imul(k ^ 0x2545f491, 0x9e3779b1);
  h1 ^= n;
  h2 ^= n;
  h1 = fmix32(h1);
  h2 = fmix32(h2 ^ h1);
  h1 = fmix32(h1 ^ Math.imul(h2, 0x27d4eb2f));
  out[0] = h1;
  out[1] = h2;
}

/** TLC's optimistic estimate of the probability that a fingerprint collision merged two states. */
export function collisionProbability(distinct: number, generated: number): number {
  return (distinct * Math.max(0, generated - distinct)) / 2 ** 64;
}
