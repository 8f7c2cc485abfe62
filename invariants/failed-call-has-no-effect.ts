import { diffStates, formatChange, formatRc, statesEqual } from '../model/index.js';
import type { Invariant } from './types.js';

export const failedCallHasNoEffect: Invariant = {
  kind: 'invariant',
  name: 'failed-call-has-no-effect',
  description: 'an operation returning an error leaves the state unchanged',
  holdsOnSelfLoops: true,
  // An armed allocation failure consumed by the call is the fault injector's, not the hypervisor's:
  // the failure it causes is the point, and the counter is not Xen state.
  checkTransition(pre, a, rc, post, { u }) {
    if (rc === null || rc >= 0) return null; // a faulted call is not a failed call
    if (statesEqual(pre, post)) return null;
    const changes = diffStates(u, pre, post).filter((c) => c.cell !== 'armedFailures');
    if (changes.length === 0) return null;
    return `${a.op} returned ${formatRc(rc)} but changed ${changes.length} cell(s): ${changes.map(formatChange).join('; ')}`;
  },
};
