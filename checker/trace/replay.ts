// Re-executing a recorded counterexample step by step and judging its property again.
import { formatAction, formatRc, type Rc } from '../../model/index.js';
import { judgeStep, type Invariant } from '../../invariants/index.js';
import { targetInvariants, wire, type Wired } from '../xen-model.js';
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
  const inv = targetInvariants(target).find((i) => i.name === meta.property);
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

/** What a path of actions does to a property under some table: where it fails, or where the path stops applying. */
export interface PathVerdict {
  /** The property's message where it first fails along the path, or null (it holds throughout). */
  violation: string | null;
  /** The step (1-based; 0: the booted state) where it first fails. */
  at: number | null;
  /** The frame the violation is about, when the property names one (refcount properties). */
  subject: { frame: number | null };
  /** When the path no longer applies: at which step, and why. */
  diverged: { step: number; why: string } | null;
  /** "k. action → rc" per step run. */
  steps: string[];
}

/**
 * Runs a path of action indices under the wired table and judges one property along it. With the
 * return codes a trace recorded, a step that now returns another code stops the path: the trace no
 * longer applies (a fix that makes the call fail has changed what the trace is about).
 */
export function judgePath(w: Wired, inv: Invariant, path: readonly number[], recorded?: readonly (Rc | undefined)[]): PathVerdict {
  const u = w.xm.u;
  let s = w.xm.init();
  const steps: string[] = [];
  let violation: string | null = inv.check && s.fault === null ? inv.check(s, w.pc) : null;
  let at: number | null = violation === null ? null : 0;
  let diverged: PathVerdict['diverged'] = null;
  for (let k = 0; k < path.length; k++) {
    const step = k + 1;
    const a = w.model.actions(s)[path[k]!];
    if (a === undefined) {
      diverged = { step, why: s.fault !== null ? `the state is faulted after step ${k} (${s.fault.kind})` : `action index ${path[k]} does not exist in this universe` };
      break;
    }
    const { next, rc } = w.xm.apply(s, a);
    steps.push(`${step}. ${formatAction(u, a)} → ${formatRc(rc)}`);
    const want = recorded?.[k];
    if (want !== undefined && want !== rc) {
      diverged = { step, why: `${formatAction(u, a)} now returns ${formatRc(rc)}, where the trace recorded ${formatRc(want)}` };
      break;
    }
    if (violation === null) {
      violation = judgeStep(inv, s, a, rc, next, w.pc);
      if (violation !== null) at = step;
    }
    s = next;
  }
  const last = s;
  const frame = violation !== null && inv.subjectFrame ? inv.subjectFrame(last, w.pc) : null;
  return { violation, at, subject: { frame }, diverged, steps };
}

/** The return codes a trace recorded, step by step (undefined where it recorded none). */
export function recordedRcs(states: readonly unknown[]): (Rc | undefined)[] {
  return states.slice(1).map((st) => {
    const rc = (st as { rc?: { tag?: string; value?: unknown } } | null)?.rc;
    if (!rc || typeof rc !== 'object') return undefined;
    if (rc.tag === 'Fault') return null;
    if (rc.tag !== 'Some') return undefined;
    const v = rc.value as { '#bigint'?: unknown } | number;
    const n = typeof v === 'number' ? v : typeof v?.['#bigint'] === 'string' ? Number(v['#bigint']) : NaN;
    return Number.isInteger(n) ? n : undefined;
  });
}
