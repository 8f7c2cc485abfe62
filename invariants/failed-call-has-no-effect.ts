import { diffStates, formatChange, formatRc, statesEqual } from '../model/index.js';
import type { Invariant } from './types.js';

export const failedCallHasNoEffect: Invariant = {
  kind: 'invariant',
  name: 'failed-call-has-no-effect',
  description: 'an operation returning an error leaves the state unchanged',
  holdsOnSelfLoops: true,
  checkTransition(pre, a, rc, post, { u }) {
    if (rc === null || rc >= 0) return null; // a faulted call is not a failed call
    if (statesEqual(pre, post)) return null;
    const changes = diffStates(u, pre, post);
    if (changes.length === 0) return null;
    return `${a.op} returned ${formatRc(rc)} but changed ${changes.length} cell(s): ${changes.map(formatChange).join('; ')}`;
  },
};
