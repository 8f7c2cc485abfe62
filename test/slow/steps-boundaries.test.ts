// `steps` with one vCPU against the atomic model, deeper than the fast suite: from every state the
// atomic model reaches within depth 4, every hypercall run in segments returns the atomic model's
// state and return code, so the states at hypercall boundaries are the atomic ones to depth 5 (9 minutes in all for the eight).
import { describe, expect, it } from 'vitest';
import { BACKENDS, VERSIONS } from '../../model/index.js';
import { boundaryEquivalence } from '../steps-helpers.js';

describe('steps granularity with one vCPU is the atomic model at hypercall boundaries (deep)', () => {
  for (const version of VERSIONS) {
    for (const backend of BACKENDS) {
      it(`${version} on ${backend}, from every state within depth 4`, () => {
        expect(boundaryEquivalence(version, backend, 4)).toBeGreaterThan(100_000);
      });
    }
  }
});
