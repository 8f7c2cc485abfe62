// Reading a trace file back: the ITF shape, the configuration its #meta names, and the check that
// the recorded states are what the model gives.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../model/index.js';
import { findInvariant, judgeStep } from '../../invariants/index.js';
import { resolveTarget, wire, type Target } from '../xen-model.js';
import { buildTrace, type Trace } from './build.js';
import { itfToState, parseItf, TraceFormatError, type ItfMeta } from './itf.js';

import { stateDifference } from './verify.js';

export interface TraceFile {
  file: string;
  meta: ItfMeta;
  /** The recorded states, as ITF values (read against the universe with itfToState). */
  states: unknown[];
  target: Target;
}

/** Reads an ITF trace file and the run target (version, mutant or variant) its #meta describes. */
export async function readTraceFile(file: string): Promise<TraceFile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TraceFormatError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const { meta, states } = parseItf(text, file);
  const c = meta.configuration;
  try {
    const target = await resolveTarget({
      version: String(c.version),
      backend: String(c.backend),
      domains: String(c.domains),
      gfns: String(c.gfns),
      spareFrames: String(c.spareFrames),
      ops: Array.isArray(c.ops) ? c.ops.join(',') : String(c.ops),
      destroyableDom0: c.hardwareDomainDestroyable === true,
      preemptibleTeardown: c.preemptibleTeardown === true,
      mutant: typeof c.mutant === 'string' ? c.mutant : undefined,
      variant: typeof c.variant === 'string' ? c.variant : undefined,
    });
    return { file, meta, states, target };
  } catch (e) {
    if (e instanceof ConfigError) throw new TraceFormatError(`${file}: #meta.configuration: ${e.message}`);
    throw e;
  }
}

/**
 * The counterexample of a trace file, rebuilt by replaying its path (with the ledger), after checking
 * that every recorded state is the one the model gives.
 */
export function rebuildTrace(tf: TraceFile): Trace {
  const { file, meta, states, target } = tf;
  const u = target.u;
  const inv = findInvariant(meta.property);
  if (!inv) throw new TraceFormatError(`${file}: #meta.property "${meta.property}" is not an invariant of this checker`);
  const w = wire(u, { xen: target.xen, invariants: [inv] });
  if (meta.path.some((ai) => ai >= w.xm.actions.length)) throw new TraceFormatError(`${file}: an action index of #meta.path is out of range`);
  const t = buildTrace(w, { name: meta.property, depth: meta.path.length, root: 0, path: meta.path, message: meta.message });
  // the file must describe this model's run: the recorded states are the replayed ones
  t.states.forEach((s, k) => {
    const d = stateDifference(itfToState(u, states[k], `${file}: states[${k}]`), s);
    if (d !== null) throw new TraceFormatError(`${file}: step ${k}: the recorded state is not what the model gives (${d})`);
  });
  // and its message is the one the model gives where the property first fails along the path
  let message: string | null = inv.check && t.states[0]!.fault === null ? inv.check(t.states[0]!, w.pc) : null;
  for (const st of t.steps) {
    if (message !== null) break;
    message = judgeStep(inv, t.states[st.index - 1]!, st.action, st.rc, t.states[st.index]!, w.pc);
  }
  checkMessage(file, meta, message);
  return t;
}

/** The recorded message must be the model's: an edited message is as much a tampering as an edited state. */
export function checkMessage(file: string, meta: ItfMeta, modelMessage: string | null): void {
  if (modelMessage === null) {
    throw new TraceFormatError(`${file}: the model finds no violation of ${meta.property} along this trace, yet it is recorded as one (see checker replay ${file})`);
  }
  if (typeof meta.message !== 'string' || meta.message !== modelMessage) {
    throw new TraceFormatError(`${file}: #meta.message is not the model's message for this trace (the model says: ${modelMessage})`);
  }
}
