// Preemption of long-running hypercalls (domain_relinquish_resources and its phases).
import type { Preempt } from './xen.js';

/** Unlimited budget: atomic teardown. */
export const NO_PREEMPTION: Preempt = { budget: Infinity };

/** hypercall_preempt_check(): spends one chunk of the budget, or says "preempt now". */
export function preemptCheck(p: Preempt): boolean {
  if (p.budget <= 0) return true;
  p.budget -= 1;
  return false;
}
