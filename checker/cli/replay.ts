// `checker replay FILE`: re-executes an ITF counterexample on the configuration in its #meta.
import { readFileSync } from 'node:fs';
import { ConfigError, encodeState, formatAction, formatRc, type State } from '../../model/index.js';
import { findInvariant, judgeStep } from '../../invariants/index.js';
import { EXIT, UsageError } from './common.js';
import { itfToState, parseItf, TraceFormatError, type ItfMeta } from './itf.js';
import { resolveTarget, type Target } from './explore.js';
import { wire } from './wiring.js';

export function sameState(a: State, b: State, size: number): boolean {
  const x = encodeState(a, new Uint8Array(size));
  const y = encodeState(b, new Uint8Array(size));
  return x.every((v, i) => v === y[i]);
}

/** Reads an ITF trace file and the run target (version, mutant or variant) its #meta describes. */
export async function readTraceFile(file: string): Promise<{ meta: ItfMeta; states: unknown[]; target: Target }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
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
    return { meta, states, target };
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) throw new TraceFormatError(`${file}: #meta.configuration: ${e.message}`);
    throw e;
  }
}

export async function runReplay(file: string, out: (s: string) => void): Promise<number> {
  const { meta, states, target } = await readTraceFile(file);
  const u = target.u;
  const inv = findInvariant(meta.property);
  if (!inv) throw new TraceFormatError(`${file}: #meta.property "${meta.property}" is not an invariant of this checker`);
  const w = wire(u, { immer: true, invariants: [inv], xen: target.xen });
  const size = w.xm.encodedSize;

  let s = w.xm.init();
  const s0 = itfToState(u, states[0], `${file}: states[0]`);
  if (!sameState(s, s0, size)) {
    throw new TraceFormatError(`${file}: step 0: the recorded initial state is not the booted state of this configuration`);
  }
  const lines: string[] = [`replaying ${file}: ${u.version} on ${u.backend}, ${meta.path.length} steps, property ${meta.property}`];
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
    if (!sameState(next, recorded, size)) {
      throw new TraceFormatError(`${file}: step ${step}: ${formatAction(u, a)} does not give the recorded state: the trace no longer matches the model`);
    }
    lines.push(`  ${step}. ${formatAction(u, a)} → ${formatRc(rc)}`);
    if (violation === null) violation = judgeStep(inv, s, a, rc, next, w.pc);
    s = next;
  });
  if (violation !== null) {
    lines.push(`still violated: ${meta.property}: ${violation}`);
    out(lines.join('\n') + '\n');
    return EXIT.violation;
  }
  lines.push(`no longer violated: ${meta.property} holds along the whole trace`);
  out(lines.join('\n') + '\n');
  return EXIT.ok;
}
