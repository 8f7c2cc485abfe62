// Reading a trace file back: the ITF shape, the configuration its #meta names, and the check that
// the recorded states are what the model gives.
import { readFileSync } from 'node:fs';
import { actionArgs, ConfigError, type Action, type Rc, type Universe, type XenFunctions } from '../../model/index.js';
import { findInvariant, INVARIANTS, judgeStep } from '../../invariants/index.js';
import { resolveTarget, targetInvariants, universeFromFlags, wire, type Target, type TargetFlags, type UniverseFlags, type VariantRecord } from '../xen-model.js';
import { buildTrace, type Trace } from './build.js';
import { itfToState, parseItf, TraceFormatError, universeToConfig, type ItfMeta, type TraceConfig } from './itf.js';

import { stateDifference } from './verify.js';

export interface TraceFile {
  file: string;
  meta: ItfMeta;
  /** The recorded states, as ITF values (read against the universe with itfToState). */
  states: unknown[];
  target: Target;
  /** A trace another tool wrote: its path and property were found from its states. */
  foreign?: boolean;
}

export interface ReadTraceOptions {
  /** The --variant file the user names for a trace of a variant (a trace never names code to load). */
  variant?: string;
  /**
   * Instead of a file: the variants already loaded by the caller (checker serve's, from its command
   * line), looked up by the name the trace records; the hash must match too.
   */
  loaded?: readonly LoadedVariant[];
  /**
   * The universe (and mutant) the user names on the command line: for a trace another tool wrote,
   * which carries no configuration of ours. A trace of ours carries its own, and refuses these.
   */
  universe?: TargetFlags;
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
  const parsed = parseItf(text, file);
  if (parsed.meta === null) return foreignTrace(parsed.otherMeta, parsed.states, file, o);
  if (o.universe !== undefined) {
    throw new TraceFormatError(`${file} carries its configuration (#meta.configuration): drop the universe flags (they are for --path and for traces other tools wrote)`);
  }
  const { meta, states } = parsed as { meta: ItfMeta; states: unknown[] };
  const c = meta.configuration;
  // null: none (as the JSON documents say it); a string: a path, from an older checker
  const recorded = c.variant ?? undefined;
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
    granularity: c.granularity === undefined ? undefined : String(c.granularity),
    vcpus: c.vcpus === undefined ? undefined : String(c.vcpus),
  };
}

/**
 * A trace of this model that another tool wrote: no configuration of ours, perhaps no path or property.
 * The universe is the one the flags give (the defaults without any); each recorded state must be one
 * the model reaches, step by step, which finds the path: among the actions that give the next state,
 * the one the trace names (its `action` variable, or Quint's mbt::actionTaken and mbt::nondetPicks),
 * with the recorded return code, else the first in the model's order. The property is the one its
 * #meta names, else the first invariant violated along the path, with the model's own message.
 */
async function foreignTrace(other: Record<string, unknown>, states: unknown[], file: string, o: ReadTraceOptions): Promise<TraceFile> {
  let target: Target;
  try {
    target = await resolveTarget({ ...(o.universe ?? {}), variant: o.variant });
  } catch (e) {
    if (e instanceof ConfigError) throw new TraceFormatError(e.message);
    throw e;
  }
  const u = target.u;
  const w = wire(u, { xen: target.xen, immer: true });
  let s = w.xm.init();
  const d0 = stateDifference(itfToState(u, states[0], `${file}: states[0]`), s);
  if (d0 !== null) {
    throw new TraceFormatError(
      `${file}: states[0] is not the booted state of this universe (${d0}); a trace with no configuration of ours is read on the universe the flags give (--xen, --domains, --gfns, ...)`,
    );
  }
  const path: number[] = [];
  const modelStates = [s];
  for (let k = 1; k < states.length; k++) {
    const recorded = itfToState(u, states[k], `${file}: states[${k}]`);
    const named = namedStep(states[k]);
    const fits: number[] = [];
    const acts = w.model.actions(s);
    let rcs = new Map<number, Rc>();
    for (let ai = 0; ai < acts.length; ai++) {
      const a = acts[ai]!;
      const { next, rc } = w.xm.apply(s, a);
      if (stateDifference(recorded, next) === null) {
        fits.push(ai);
        rcs.set(ai, rc);
      }
    }
    if (fits.length === 0) throw new TraceFormatError(`${file}: step ${k}: no operation of the model leads from states[${k - 1}] to states[${k}]`);
    const byName = named === null ? fits : fits.filter((ai) => sameAction(u, acts[ai]!, named));
    if (named !== null && byName.length === 0) {
      throw new TraceFormatError(`${file}: step ${k}: the trace names ${named.op}(${JSON.stringify(named.args)}), which does not give states[${k}] in this model`);
    }
    const byRc = named?.rc === undefined ? byName : byName.filter((ai) => rcs.get(ai) === named.rc);
    const ai = (byRc.length > 0 ? byRc : byName)[0]!;
    path.push(ai);
    s = w.xm.apply(s, acts[ai]!).next;
    modelStates.push(s);
    rcs = new Map();
  }
  let property = typeof other.property === 'string' ? other.property : null;
  if (property !== null && !findInvariant(property)) throw new TraceFormatError(`${file}: #meta.property "${printable(property)}" is not an invariant of this checker`);
  let message: string | null = null;
  const candidates = property !== null ? [findInvariant(property)!] : INVARIANTS;
  let best: { name: string; depth: number; message: string } | null = null;
  for (const inv of candidates) {
    const ww = wire(u, { xen: target.xen, immer: true, invariants: [inv] });
    let m: string | null = inv.check && modelStates[0]!.fault === null ? inv.check(modelStates[0]!, ww.pc) : null;
    let depth = 0;
    for (let k = 1; m === null && k < modelStates.length; k++) {
      m = judgeStep(inv, modelStates[k - 1]!, ww.xm.actions[path[k - 1]!]!, w.xm.apply(modelStates[k - 1]!, ww.xm.actions[path[k - 1]!]!).rc, modelStates[k]!, ww.pc);
      depth = k;
    }
    if (m !== null && (best === null || depth < best.depth)) best = { name: inv.name, depth, message: m };
  }
  if (best !== null) {
    property = best.name;
    message = best.message;
  }
  if (property === null) {
    throw new TraceFormatError(`${file}: no invariant of this checker is violated along this trace (checker replay --path ${path.join(',')} walks it)`);
  }
  const meta: ItfMeta = {
    format: 'ITF',
    'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
    tool: typeof other.tool === 'string' ? other.tool : 'another tool',
    configuration: { ...universeToConfig(u), ...(target.mutant ? { mutant: target.mutant } : {}), ...(target.variantRecord ? { variant: target.variantRecord } : {}) },
    property,
    status: 'violation',
    message: message ?? '',
    depth: path.length,
    path,
  };
  return { file, meta, states, target, foreign: true };
}

/** The operation a recorded state says led to it: our `action` variable, or Quint's mbt pair; null when neither. */
function namedStep(v: unknown): { op: string; args: Record<string, unknown>; rc?: Rc } | null {
  if (!isRecord(v)) return null;
  const unbig = (x: unknown): unknown => (isRecord(x) && typeof x['#bigint'] === 'string' ? Number(x['#bigint']) : x);
  let rc: Rc | undefined;
  if (isRecord(v.rc) && typeof v.rc.tag === 'string') rc = v.rc.tag === 'Fault' ? null : v.rc.tag === 'Some' ? (unbig(v.rc.value) as number) : undefined;
  if (isRecord(v.action) && typeof v.action.tag === 'string' && v.action.tag !== 'Init') {
    const val = v.action.value;
    const args = isRecord(val) && !('#tup' in val) ? Object.fromEntries(Object.entries(val).map(([k, x]) => [k, unbig(x)])) : {};
    return { op: v.action.tag, args, ...(rc === undefined ? {} : { rc }) };
  }
  const taken = v['mbt::actionTaken'];
  if (typeof taken === 'string' && taken !== 'init') {
    const picks = isRecord(v['mbt::nondetPicks']) ? v['mbt::nondetPicks'] : {};
    const args: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(picks)) if (isRecord(p) && p.tag === 'Some') args[k] = unbig(p.value);
    return { op: taken, args, ...(rc === undefined ? {} : { rc }) };
  }
  return null;
}

/** Whether an action is the named one: its operation and every argument the trace gives. */
function sameAction(u: Universe, a: Action, named: { op: string; args: Record<string, unknown> }): boolean {
  if (a.op !== named.op) return false;
  const mine: Record<string, unknown> = { ...actionArgs(u, a) };
  if (a.op === 'set_log_dirty') mine.on = a.on;
  return Object.entries(named.args).every(([k, x]) => mine[k] === x || (k === 'on' && typeof x === 'string' && mine.on === (x === 'on')));
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
  if (u.granularity === 'atomic' && meta.path.some((ai) => ai >= w.xm.actions.length)) throw new TraceFormatError(`${file}: an action index of #meta.path is out of range`);
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
