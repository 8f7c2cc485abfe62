// `checker explore`
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { loadVariant } from './variant-loader.js';
import { exploreAsync, type ExploreOptions } from '../engine.js';
import { exploreParallel } from '../parallel.js';
import { specFor } from './model-spec.js';
import { findMutant, makeUniverse, mutantTable, MUTANTS, type Universe, type XenFunctions } from '../../model/index.js';
import { INVARIANTS, type Invariant } from '../../invariants/index.js';
import { UsageError, EXIT, TOOL } from './common.js';
import { traceToItf } from './itf.js';
import { renderJson, renderText } from './report.js';
import { buildTrace, realizePath, type Trace } from './trace.js';
import { wire } from './wiring.js';

export const DEFAULT_DEPTH = 6;

export interface UniverseFlags {
  version?: string;
  backend?: string;
  domains?: string;
  gfns?: string;
  spareFrames?: string;
  ops?: string;
  destroyableDom0?: boolean;
  preemptibleTeardown?: boolean;
}

export interface ExploreFlags extends UniverseFlags {
  mutant?: string;
  variant?: string;
  invariants?: string;
  depth?: string;
  maxStates?: string;
  memoryLimit?: string;
  json?: boolean;
  traceOut?: string;
  stopAtFirst?: boolean;
  exact?: boolean;
  progress?: boolean;
  workers?: string;
  symmetry?: boolean;
}

export function universeFromFlags(f: UniverseFlags): Universe {
  return makeUniverse({
    version: f.version,
    backend: f.backend,
    domains: f.domains,
    gfns: f.gfns,
    spareFrames: f.spareFrames,
    ops: f.ops,
    hardwareDomainDestroyable: f.destroyableDom0 ?? false,
    preemptibleTeardown: f.preemptibleTeardown ?? false,
  });
}

export function parseDepth(v: string | undefined): number {
  if (v === undefined) return DEFAULT_DEPTH;
  if (v === 'all') return Infinity;
  if (!/^\d+$/.test(v)) throw new UsageError(`--depth: expected a whole number ≥ 0 or "all", got "${v}"`);
  return Number(v);
}

function parsePositive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name}: expected a whole number ≥ 1, got "${v}"`);
  return Number(v);
}

export function selectInvariants(spec: string | undefined): Invariant[] {
  if (spec === undefined) return [...INVARIANTS];
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--invariants: name at least one invariant (see checker list invariants)');
  for (const name of names) {
    if (!INVARIANTS.some((i) => i.name === name)) {
      throw new UsageError(`--invariants: unknown invariant "${name}"; known: ${INVARIANTS.map((i) => i.name).join(', ')}`);
    }
  }
  return INVARIANTS.filter((i) => names.includes(i.name));
}

/** Default memory ceiling: 60% of the machine's memory (the run stops cleanly, exit 3). */
export function defaultMemoryLimit(totalBytes: number): number {
  return Math.floor(totalBytes * 0.6);
}

export interface Target {
  u: Universe;
  xen: XenFunctions | undefined;
  /** What is checked, when not a plain version: "mutant NAME of BASE", "variant NAME of BASE". */
  label: string | null;
  mutant?: string;
  variant?: string;
}

/** The universe and function table of a run: a version, a mutant of the catalogue, or a user's variant. */
export async function resolveTarget(f: ExploreFlags): Promise<Target> {
  if (f.mutant !== undefined && f.variant !== undefined) throw new UsageError('--mutant and --variant cannot be combined');
  if (f.variant !== undefined) {
    const { variant, xen } = await loadVariant(f.variant);
    if (f.version !== undefined && f.version !== variant.base) {
      throw new UsageError(`--variant ${variant.name} is based on ${variant.base}, not ${f.version}`);
    }
    const u = universeFromFlags({ ...f, version: variant.base });
    return { u, xen, label: `variant ${variant.name} of ${variant.base} (${f.variant})`, variant: resolve(f.variant) };
  }
  if (f.mutant === undefined) return { u: universeFromFlags(f), xen: undefined, label: null };
  const m = findMutant(f.mutant);
  if (!m) throw new UsageError(`--mutant: unknown mutant "${f.mutant}"; known: ${MUTANTS.map((x) => x.name).join(', ')}`);
  if (f.version !== undefined && f.version !== m.base) {
    throw new UsageError(`--mutant ${m.name} applies to version ${m.base}, not ${f.version}`);
  }
  const u = universeFromFlags({
    ...f,
    version: m.base,
    backend: f.backend ?? m.universe?.backend,
    ops: f.ops ?? (Array.isArray(m.universe?.ops) ? m.universe.ops.join(',') : m.universe?.ops),
    preemptibleTeardown: f.preemptibleTeardown ?? m.universe?.preemptibleTeardown,
  });
  return { u, xen: mutantTable(m), label: `mutant ${m.name} of ${m.base}`, mutant: m.name };
}

export async function runExplore(f: ExploreFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const target = await resolveTarget(f);
  const { u, xen, label } = target;
  const depth = parseDepth(f.depth);
  const maxStates = parsePositive('--max-states', f.maxStates);
  const memMiB = parsePositive('--memory-limit', f.memoryLimit);
  const { totalmem } = await import('node:os');
  const memoryLimitBytes = memMiB !== undefined ? memMiB * 1024 * 1024 : defaultMemoryLimit(totalmem());
  const invariants = selectInvariants(f.invariants);
  // refuse an unusable --trace-out before a long run, not after it
  if (f.traceOut !== undefined) ensureDir(f.traceOut, '--trace-out');
  const w = wire(u, { invariants, xen, symmetry: f.symmetry === true });
  const workers = parsePositive('--workers', f.workers) ?? 1;
  if (workers > 1 && f.exact) throw new UsageError('--exact runs on one worker: drop --workers or --exact');

  const showProgress = f.progress ?? process.stderr.isTTY === true;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    const exploreOpts: ExploreOptions = {
      symmetry: f.symmetry === true,
      maxDepth: depth,
      maxStates,
      memoryLimitBytes,
      stopAtFirst: f.stopAtFirst ?? false,
      exact: f.exact ?? false,
      shouldStop: () => interrupted,
      progress: showProgress
        ? (p) =>
            err(
              `progress: depth ${p.depth}, ${p.distinct.toLocaleString('en-US')} distinct states, ` +
                `${Math.round(p.statesPerSecond).toLocaleString('en-US')} states/s, queue ${p.queue.toLocaleString('en-US')}\n`,
            )
        : undefined,
    };
    result = workers > 1
      ? await exploreParallel(w.model, specFor({ ...f, variant: target.variant ?? f.variant }), workers, exploreOpts)
      : await exploreAsync(w.model, exploreOpts);
  } finally {
    process.off('SIGINT', onSigint);
  }

  const traces = result.violations.map((v) => buildTrace(w, v));
  // With symmetry the explorer judged representatives: the paths and messages a person reads are
  // those of the real run the trace rebuilt.
  if (w.symmetric) {
    result.violations.forEach((v, i) => {
      v.path = traces[i]!.path;
      v.message = traces[i]!.message;
    });
    for (const wt of result.witnesses) wt.path = realizePath(w, wt.path);
  }
  const traceFiles = f.traceOut === undefined ? new Map<string, string>() : writeTraces(f.traceOut, u, traces, target);
  const exitCode =
    result.violations.length > 0 ? EXIT.violation : result.stopped !== null && result.stopped !== 'stop-at-first' ? EXIT.limit : EXIT.ok;
  const info = {
    u,
    depthBound: depth,
    actionCount: w.xm.actions.length,
    invariants,
    witnesses: w.witnesses,
    result,
    traces,
    traceFiles,
    exact: f.exact ?? false,
    exitCode,
    notes: runNotes(u, label, result.violations.map((v) => v.message ?? '')),
  };
  out(f.json ? JSON.stringify(renderJson(info), null, 2) + '\n' : renderText(info));
  return exitCode;
}

/** Notes a reader needs beside the verdicts. */
export function runNotes(u: Universe, label: string | null, messages: string[]): string[] {
  const notes: string[] = [];
  if (label) notes.push(`checking ${label}`);
  if (u.version === 'head' && messages.some((m) => m.includes('p2m_entry_modify puts an old foreign entry'))) {
    notes.push(
      'head: the p2m_entry_modify fault (ac607edc2e versus relinquish_p2m_mapping) is inferred from reading ' +
        "Xen's source; no bug report confirms it. A release build would return -EILSEQ instead and leave the domain dying forever.",
    );
  }
  return notes;
}

/**
 * Creates a directory and its missing parents one level at a time. (mkdirSync's own recursive mode
 * retries forever under /proc on some Node versions.)
 */
export function ensureDir(dir: string, option: string): void {
  const parts = resolve(dir).split(sep);
  let cur = parts[0] === '' ? sep : parts[0]!;
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    cur = join(cur, part);
    let st;
    try {
      st = statSync(cur);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) continue;
    if (st) throw new UsageError(`${option}: ${cur} exists and is not a directory`);
    try {
      mkdirSync(cur);
    } catch (e) {
      throw new UsageError(`${option}: cannot create ${cur} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}

/** Writes each trace as DIR/<property>.itf.json; returns property → file. */
export function writeTraces(dir: string, u: Universe, traces: Trace[], target: Pick<Target, 'mutant' | 'variant'>): Map<string, string> {
  ensureDir(dir, '--trace-out');
  const files = new Map<string, string>();
  for (const t of traces) {
    const file = join(dir, `${t.property}.itf.json`);
    const itf = traceToItf({
      u,
      property: t.property,
      message: t.message ?? '',
      path: t.path,
      states: t.states,
      actions: t.steps.map((s) => s.action),
      rcs: t.steps.map((s) => s.rc),
      tool: TOOL,
      mutant: target.mutant,
      variant: target.variant,
    });
    writeFileSync(file, JSON.stringify(itf, null, 1) + '\n');
    files.set(t.property, file);
  }
  return files;
}
