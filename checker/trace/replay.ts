// Re-executing a recorded counterexample step by step and judging its property again.
import { formatAction, formatRc } from '../../model/index.js';
import { findInvariant, judgeStep } from '../../invariants/index.js';
import { wire } from '../xen-model.js';
import { itfToState, TraceFormatError } from './itf.js';
import { checkMessage, type TraceFile } from './load.js';
import { stateDifference } from './verify.js';

export interface ReplayOutcome {
  /** One line per step: "k. action → rc". */
  steps: string[];
  /** The property's message when it is still violated along the trace, else null. */
  violation: string | null;
}

/**
 * Replays the trace's path through the public (immer) apply, comparing every recorded state; a
 * state that differs is a TraceFormatError naming the step.
 */
export function replayTrace(tf: TraceFile): ReplayOutcome {
  const { file, meta, states, target } = tf;
  const u = target.u;
  const inv = findInvariant(meta.property);
  if (!inv) throw new TraceFormatError(`${file}: #meta.property "${meta.property}" is not an invariant of this checker`);
  const w = wire(u, { immer: true, invariants: [inv], xen: target.xen });
  let s = w.xm.init();
  const d0 = stateDifference(itfToState(u, states[0], `${file}: states[0]`), s);
  if (d0 !== null) {
    throw new TraceFormatError(`${file}: step 0: the recorded initial state is not the booted state of this configuration (${d0})`);
  }
  const lines: string[] = [];
  let violation: string | null = inv.check && s.fault === null ? inv.check(s, w.pc) : null;
  meta.path.forEach((ai, k) => {
    const step = k + 1;
    const acts = w.model.actions(s);
    const a = acts[ai];
    if (a === undefined) {
      throw new TraceFormatError(`${file}: step ${step}: action index ${ai} is not enabled here (${acts.length} actions${s.fault ? ': the state is faulted' : ''})`);
    }
    const { next, rc } = w.xm.apply(s, a);
    const recorded = itfToState(u, states[step], `${file}: states[${step}]`);
    const d = stateDifference(recorded, next);
    if (d !== null) {
      throw new TraceFormatError(`${file}: step ${step}: ${formatAction(u, a)} does not give the recorded state (${d}): the trace no longer matches the model`);
    }
    lines.push(`${step}. ${formatAction(u, a)} → ${formatRc(rc)}`);
    if (violation === null) violation = judgeStep(inv, s, a, rc, next, w.pc);
    s = next;
  });
  // the states matched, so the model's verdict is the recorded one: a different message was edited
  if (violation !== null) checkMessage(file, meta, violation);
  return { steps: lines, violation };
}
