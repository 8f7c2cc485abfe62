// Reading a trace file back: the ITF shape, the configuration its #meta names, and the check that
// the recorded states are what the model gives.
import { readFileSync } from 'node:fs';
import { ConfigError, encodeState, type State } from '../../model/index.js';
import { findInvariant } from '../../invariants/index.js';
import { resolveTarget, wire, type Target } from '../xen-model.js';
import { buildTrace, type Trace } from './build.js';
import { itfToState, parseItf, TraceFormatError, type ItfMeta } from './itf.js';

/** Whether two states of one universe have the same encoding. */
export function sameState(a: State, b: State, size: number): boolean {
  const x = encodeState(a, new Uint8Array(size));
  const y = encodeState(b, new Uint8Array(size));
  return x.every((v, i) => v === y[i]);
}

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
      build: c.build === undefined ? undefined : String(c.build),
      superpages: c.superpages === true,
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
    if (!sameState(s, itfToState(u, states[k], `${file}: states[${k}]`), w.xm.encodedSize)) {
      throw new TraceFormatError(`${file}: step ${k}: the recorded state is not what the model gives (see checker replay ${file})`);
    }
  });
  return t;
}
