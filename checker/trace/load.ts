// Reading a trace file back: the ITF shape, the configuration its #meta names, and the check that
// the recorded states are what the model gives.
import { readFileSync } from 'node:fs';
import { ConfigError, type XenFunctions } from '../../model/index.js';
import { judgeStep } from '../../invariants/index.js';
import { resolveTarget, universeFromFlags, wire, type Target, type UniverseFlags, type VariantRecord } from '../xen-model.js';
import { targetInvariants } from '../xen-model.js';
import { buildTrace, type Trace } from './build.js';
import { itfToState, parseItf, TraceFormatError, type ItfMeta, type TraceConfig } from './itf.js';

import { stateDifference } from './verify.js';

export interface TraceFile {
  file: string;
  meta: ItfMeta;
  /** The recorded states, as ITF values (read against the universe with itfToState). */
  states: unknown[];
  target: Target;
}

export interface ReadTraceOptions {
  /** The --variant file the user names for a trace of a variant (a trace never names code to load). */
  variant?: string;
  /**
   * Instead of a file: the variants already loaded by the caller (checker serve's, from its command
   * line), looked up by the name the trace records; the hash must match too.
   */
  loaded?: readonly LoadedVariant[];
}

/** A variant its front end loaded itself, from a file the user named. */
export interface LoadedVariant {
  name: string;
  base: string;
  sha256: string;
  xen: XenFunctions;
  /** How to name it to the user (its file). */
  file: string;
  properties: Target['properties'];
}

const short = (h: string) => `${h.slice(0, 12)}…`;

/**
 * Reads an ITF trace file and the run target (version, mutant or variant) its #meta describes. A
 * trace is data: it is never a reason to load code. A trace of a variant records the variant's name
 * and the hash of its file; the user passes the file (`--variant FILE`), which must match both.
 */
export async function readTraceFile(file: string, o: ReadTraceOptions = {}): Promise<TraceFile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TraceFormatError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readTraceText(text, file, o);
}

/** The same, from a trace's text (`file` names it in messages). */
export async function readTraceText(text: string, file: string, o: ReadTraceOptions = {}): Promise<TraceFile> {
  const { meta, states } = parseItf(text, file);
  const c = meta.configuration;
  const recorded = c.variant;
  if (recorded !== undefined) {
    const legacy = typeof recorded === 'string';
    if (!legacy && !(isRecord(recorded) && typeof recorded.name === 'string' && typeof recorded.sha256 === 'string' && /^[0-9a-f]{64}$/.test(recorded.sha256))) {
      throw new TraceFormatError(`${file}: #meta.configuration.variant must be {"name": ..., "sha256": ...}`);
    }
    if (o.loaded !== undefined) return { file, meta, states, target: loadedTarget(file, meta, recorded, o.loaded) };
    if (o.variant === undefined) {
      throw new TraceFormatError(
        legacy
          ? `${file}: the trace is of a variant (recorded by path by an older checker): pass --variant FILE to read it (a trace never loads code itself)`
          : `${file}: the trace is of variant "${printable(recorded.name)}" (sha256 ${short(recorded.sha256)}): pass --variant FILE to read it (a trace never loads code itself)`,
      );
    }
  } else if (o.variant !== undefined) {
    throw new TraceFormatError(`--variant: ${file} is not a trace of a variant (it is of ${printable(String(c.version))}${typeof c.mutant === 'string' ? `, mutant ${printable(c.mutant)}` : ''}): drop --variant`);
  }
  if (typeof c.mutant === 'string' && recorded !== undefined) throw new TraceFormatError(`${file}: #meta.configuration names both a mutant and a variant`);
  try {
    const target = await resolveTarget({
      ...traceUniverse(c),
      mutant: typeof c.mutant === 'string' ? c.mutant : undefined,
      variant: recorded === undefined ? undefined : o.variant,
    });
    if (recorded !== undefined && typeof recorded !== 'string') {
      const got = target.variantRecord!;
      if (got.name !== recorded.name) {
        throw new TraceFormatError(`--variant: ${o.variant} is variant "${got.name}", but ${file} is a trace of "${printable(recorded.name)}"`);
      }
      if (got.sha256 !== recorded.sha256) {
        throw new TraceFormatError(
          `--variant: ${o.variant} is not the file ${file} was made with (sha256 ${short(got.sha256)}, the trace records ${short(recorded.sha256)}): the variant changed since`,
        );
      }
    }
    return { file, meta, states, target };
  } catch (e) {
    if (e instanceof ConfigError) throw new TraceFormatError(`${file}: #meta.configuration: ${e.message}`);
    throw e;
  }
}

/** The target of a trace of a variant its front end has loaded: by name, and the same file (hash). */
function loadedTarget(file: string, meta: ItfMeta, recorded: VariantRecord | string, loaded: readonly LoadedVariant[]): Target {
  if (typeof recorded === 'string') {
    throw new TraceFormatError(`${file}: the trace is of a variant recorded by path by an older checker; record it again with this one`);
  }
  const v = loaded.find((x) => x.name === recorded.name);
  if (!v) {
    throw new TraceFormatError(`${file}: the trace is of variant "${printable(recorded.name)}", which is not loaded; the checker never loads code named in a trace: start with --variant FILE`);
  }
  if (v.sha256 !== recorded.sha256) {
    throw new TraceFormatError(`${file}: variant "${v.name}" (${v.file}) is not the file the trace was made with (sha256 ${short(v.sha256)}, the trace records ${short(recorded.sha256)})`);
  }
  const c = meta.configuration;
  try {
    const u = universeFromFlags({ ...traceUniverse(c), version: v.base });
    return { u, xen: v.xen, label: `variant ${v.name} of ${v.base} (${v.file})`, variantRecord: { name: v.name, sha256: v.sha256 }, properties: v.properties };
  } catch (e) {
    if (e instanceof ConfigError) throw new TraceFormatError(`${file}: #meta.configuration: ${e.message}`);
    throw e;
  }
}

/** The universe a trace's #meta.configuration names, as flags (its values as the command line gives them). */
export function traceUniverse(c: TraceConfig): UniverseFlags {
  return {
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
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value from a file, safe to print on one line of a terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}

/**
 * The counterexample of a trace file, rebuilt by replaying its path (with the ledger), after checking
 * that every recorded state is the one the model gives.
 */
export function rebuildTrace(tf: TraceFile): Trace {
  const { file, meta, states, target } = tf;
  const u = target.u;
  const inv = targetInvariants(target).find((i) => i.name === meta.property);
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
