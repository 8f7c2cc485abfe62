// `checker explore`
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { explore } from '../engine.js';
import { makeUniverse, type Universe } from '../../model/index.js';
import { INVARIANTS, type Invariant } from '../../invariants/index.js';
import { UsageError, EXIT, TOOL } from './common.js';
import { traceToItf } from './itf.js';
import { renderJson, renderText } from './report.js';
import { buildTrace } from './trace.js';
import { wire } from './wiring.js';

export const DEFAULT_DEPTH = 5;

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
  invariants?: string;
  depth?: string;
  maxStates?: string;
  memoryLimit?: string;
  json?: boolean;
  traceOut?: string;
  stopAtFirst?: boolean;
  exact?: boolean;
  progress?: boolean;
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

export async function runExplore(f: ExploreFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const u = universeFromFlags(f);
  const depth = parseDepth(f.depth);
  const maxStates = parsePositive('--max-states', f.maxStates);
  const memMiB = parsePositive('--memory-limit', f.memoryLimit);
  const { totalmem } = await import('node:os');
  const memoryLimitBytes = memMiB !== undefined ? memMiB * 1024 * 1024 : defaultMemoryLimit(totalmem());
  const invariants = selectInvariants(f.invariants);
  const w = wire(u, { invariants });

  const showProgress = f.progress ?? process.stderr.isTTY === true;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    result = explore(w.model, {
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
    });
  } finally {
    process.off('SIGINT', onSigint);
  }

  const traces = result.violations.map((v) => buildTrace(w, v));
  const traceFiles = new Map<string, string>();
  if (f.traceOut !== undefined) {
    try {
      mkdirSync(f.traceOut, { recursive: true });
    } catch (e) {
      throw new UsageError(`--trace-out: cannot create ${f.traceOut} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const t of traces) {
      const file = join(f.traceOut, `${t.property}.itf.json`);
      const itf = traceToItf({
        u,
        property: t.property,
        message: t.message ?? '',
        path: t.path,
        states: t.states,
        actions: t.steps.map((s) => s.action),
        rcs: t.steps.map((s) => s.rc),
        tool: TOOL,
      });
      writeFileSync(file, JSON.stringify(itf, null, 1) + '\n');
      traceFiles.set(t.property, file);
    }
  }

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
    notes: [] as string[],
  };
  out(f.json ? JSON.stringify(renderJson(info), null, 2) + '\n' : renderText(info));
  return exitCode;
}
