// What a person reads and what a machine reads.
import type { ExploreResult } from '../engine/index.js';
import { describeEvent, formatChange, hypotheticalConfiguration, type Universe } from '../../model/index.js';
import type { Invariant, Witness } from '../../invariants/index.js';
import { universeToConfig } from './itf.js';
import type { Trace } from './build.js';
import { renderCoverage, type CoverageReport } from './coverage.js';

const n = (x: number) => x.toLocaleString('en-US');

export function depthLabel(d: number): string {
  return Number.isFinite(d) ? String(d) : 'all';
}

export interface RunInfo {
  u: Universe;
  depthBound: number;
  actionCount: number;
  invariants: readonly Invariant[];
  witnesses: readonly Witness[];
  result: ExploreResult;
  traces: Trace[];
  traceFiles: Map<string, string>;
  exact: boolean;
  exitCode: number;
  notes: string[];
  /** A variant's overrides and how many times each ran (null: not a variant). */
  overrides?: { name: string; calls: number }[] | null;
  /** With --coverage: what the exploration exercised. */
  coverage?: CoverageReport | null;
}

export function stopText(r: ExploreResult, depthBound: number): string {
  if (r.stopped === 'max-states') return 'stopped by --max-states before the bound: partial result';
  if (r.stopped === 'memory') return 'stopped by the memory ceiling before the bound: partial result';
  if (r.stopped === 'time') return 'stopped by --time-limit before the bound: partial result';
  if (r.stopped === 'interrupted') return 'interrupted: partial result';
  if (r.stopped === 'stop-at-first') return `stopped at the level of the first violation (--stop-at-first)`;
  if (r.fixpoint) return `fixpoint reached at depth ${r.levels.length - 1}: every reachable state was explored`;
  return `bound reached: depth ${depthLabel(depthBound)}`;
}

/** The deepest level explored in full. */
export function deepestComplete(r: ExploreResult): number {
  const last = r.levels[r.levels.length - 1]!;
  return last.complete ? last.depth : last.depth - 1;
}

/**
 * The exit code of a run, as TLC's: a violation found wins over a stop (12, not 3), since the
 * counterexample is real whatever stopped the run after it; then a limit (3); else 0.
 */
export function exitCodeOf(r: ExploreResult): number {
  if (r.violations.length > 0) return 12;
  if (r.stopped !== null && r.stopped !== 'stop-at-first') return 3;
  return 0;
}

export function renderText(info: RunInfo): string {
  const { u, result: r } = info;
  const cfg = universeToConfig(u);
  const lines: string[] = [];
  lines.push(
    `checker explore: ${u.version} on ${u.backend}; domains ${cfg.domains}; ${u.gfns} gfns each, ${u.domains.length * u.gfns + u.spareFrames} frames; ${info.actionCount} actions; depth ${depthLabel(info.depthBound)}`,
  );
  lines.push('');
  lines.push('depth   distinct   generated');
  for (const l of r.levels) {
    lines.push(`${String(l.depth).padStart(5)} ${n(l.distinct).padStart(10)} ${n(l.generated).padStart(11)}${l.complete ? '' : '  (level not finished)'}`);
  }
  const secs = r.elapsedMs / 1000;
  lines.push(`total ${n(r.distinct)} distinct states, ${n(r.generated)} generated, in ${secs.toFixed(2)} s (${n(Math.round(r.statesPerSecond))} distinct states/s)`);
  lines.push(
    info.exact
      ? 'state identity: exact (full encodings compared)'
      : `state identity: 64-bit fingerprints; collision probability ≈ ${r.collisionProbability.toExponential(2)} (TLC's optimistic estimate)`,
  );
  lines.push(stopText(r, info.depthBound));
  if (r.stopped !== null && r.stopped !== 'stop-at-first' && r.violations.length > 0) {
    lines.push('exit 12: a violation was found before the stop (a violation wins over a limit)');
  }
  lines.push('');
  const width = Math.max(...info.invariants.map((i) => i.name.length), ...info.witnesses.map((w) => w.name.length));
  lines.push('invariants');
  const last = r.levels[r.levels.length - 1]!;
  const deepest = deepestComplete(r);
  const partly = last.complete ? '' : ` (depth ${last.depth} partly explored)`;
  for (const inv of info.invariants) {
    const v = r.violations.find((x) => x.name === inv.name);
    lines.push(v ? `  ✗ ${inv.name.padEnd(width)}  violated at depth ${v.depth}` : `  ✓ ${inv.name.padEnd(width)}  holds to depth ${deepest}${partly}`);
  }
  lines.push('witnesses');
  for (const w of info.witnesses) {
    const v = r.witnesses.find((x) => x.name === w.name);
    lines.push(v ? `  ✓ ${w.name.padEnd(width)}  reached at depth ${v.depth}` : `  · ${w.name.padEnd(width)}  not reached`);
  }
  if (info.overrides) {
    lines.push('overrides (times each ran)');
    for (const o of info.overrides) lines.push(`  ${o.calls === 0 ? '·' : '✓'} ${o.name.padEnd(width)}  ${o.calls === 0 ? 'never ran' : o.calls.toLocaleString('en-US')}`);
  }
  if (info.coverage) lines.push('', ...renderCoverage(info.coverage));
  for (const note of info.notes) lines.push('', `note: ${note}`);
  for (const t of info.traces) lines.push('', ...renderCounterexample(t, info.traceFiles.get(t.property)));
  return lines.join('\n') + '\n';
}

/** One counterexample as a person reads it: numbered steps, the cells each changed, the message. */
export function renderCounterexample(t: Trace, file?: string): string[] {
  const lines = [`counterexample: ${t.property} (depth ${t.depth})`];
  for (const s of t.steps) {
    lines.push(`  ${s.index}. ${s.text} → ${s.rcText}`);
    if (s.changes.length === 0) lines.push('       (no change)');
    for (const c of s.changes) lines.push(`       ${formatChange(c)}`);
  }
  lines.push(`  ✗ ${t.property}: ${t.message ?? ''}`);
  if (t.frame !== null) lines.push(...renderLedger(t, t.frame).map((l) => `  ${l}`));
  lines.push(`  replay token: ${t.path.join(',') || '(initial state)'}`);
  if (file) lines.push(`  trace: ${file}  (checker replay ${file})`);
  return lines;
}

/**
 * The frame's reference ledger: each step that took or dropped a reference on it, by which function,
 * the foreign entries that came and went, and at the end the references no holder accounts for.
 */
export function renderLedger(t: Trace, frame: number): string[] {
  const out = [`reference ledger of frame ${frame}:`];
  for (const s of t.steps) {
    const events = s.ledger.filter((e) => e.frame === frame);
    const entries = s.changes.filter((c) => c.cell.startsWith('p2m[') && (c.before.includes('map_foreign') || c.after.includes('map_foreign')) && c.frame !== undefined && (c.before.includes(`(mfn ${frame})`) || c.after.includes(`(mfn ${frame})`)));
    if (events.length === 0 && entries.length === 0) continue;
    out.push(`  step ${s.index}. ${s.text}`);
    let count = t.states[s.index - 1]!.frames[frame]!.count;
    for (const e of events) {
      const before = count;
      count += e.delta;
      out.push(`      ${describeEvent(e).padEnd(60)} count ${before} → ${count}`);
    }
    const puts = events.filter((e) => e.what === 'put_page').length;
    for (const c of entries) {
      const removed = c.before.includes(`map_foreign(mfn ${frame})`) && !c.after.includes(`map_foreign(mfn ${frame})`);
      out.push(`      ${c.cell} ${c.before} → ${c.after}${removed && puts === 0 ? ': removed without put_page' : ''}`);
    }
  }
  const last = t.states[t.states.length - 1]!;
  const f = last.frames[frame]!;
  const mapped = last.p2m.reduce(
    (n, row, d) => n + (last.domains[d]!.life === 'destroyed' ? 0 : row.filter((e) => e !== null && e.type === 'map_foreign' && e.mfn === frame).length),
    0,
  );
  const held = (f.allocated ? 1 : 0) + mapped;
  out.push(
    `  now: count ${f.count}; holders: allocation ${f.allocated ? 1 : 0} + ${mapped} foreign entr${mapped === 1 ? 'y' : 'ies'}` +
      (f.count > held ? `; ${f.count - held} reference(s) held by nothing` : f.count < held ? `; ${held - f.count} holder(s) without a reference` : ''),
  );
  return out;
}

export function renderJson(info: RunInfo): unknown {
  const { result: r } = info;
  const complete = deepestComplete(r);
  const properties = [
    ...info.invariants.map((inv) => {
      const v = r.violations.find((x) => x.name === inv.name);
      const t = info.traces.find((x) => x.property === inv.name);
      return {
        name: inv.name,
        kind: 'invariant',
        verdict: v ? 'violated' : 'holds',
        depth: v ? v.depth : null,
        // every state to this depth was checked and satisfies it (a stopped run's last level may be partial)
        holdsToDepth: v ? v.depth - 1 : complete,
        message: v?.message ?? null,
        trace: t
          ? {
              path: t.path,
              file: info.traceFiles.get(t.property) ?? null,
              steps: t.steps.map((s) => ({ step: s.index, actionIndex: s.actionIndex, action: s.action.op, args: s.args, rc: s.rc, rcText: s.rcText })),
            }
          : null,
      };
    }),
    ...info.witnesses.map((w) => {
      const v = r.witnesses.find((x) => x.name === w.name);
      return { name: w.name, kind: 'witness', verdict: v ? 'reached' : 'not-reached', depth: v ? v.depth : null, path: v ? v.path : null };
    }),
  ];
  return {
    tool: 'checker',
    configuration: universeToConfig(info.u),
    depthBound: Number.isFinite(info.depthBound) ? info.depthBound : 'all',
    actions: info.actionCount,
    exact: info.exact,
    levels: r.levels,
    totals: { distinct: r.distinct, generated: r.generated },
    fixpoint: r.fixpoint,
    stopped: r.stopped,
    elapsedMs: Math.round(r.elapsedMs),
    statesPerSecond: Math.round(r.statesPerSecond),
    peakRssBytes: r.peakRssBytes,
    visitedBytes: r.visitedBytes,
    bytesPerState: r.distinct > 0 ? r.visitedBytes / r.distinct : 0,
    collisionProbability: r.collisionProbability,
    properties,
    overrides: info.overrides ?? null,
    coverage: info.coverage ?? null,
    notes: info.notes,
    exitCode: info.exitCode,
  };
}

/** Notes a reader needs beside the verdicts. */
export function runNotes(u: Universe, label: string | null, messages: string[]): string[] {
  const notes: string[] = [];
  if (label) notes.push(`checking ${label}`);
  const hypothetical = hypotheticalConfiguration(u);
  if (hypothetical) notes.push(hypothetical);
  if (u.version === 'head' && messages.some((m) => m.includes('p2m_entry_modify puts an old foreign entry'))) {
    notes.push(
      'head: the p2m_entry_modify fault (ac607edc2e versus relinquish_p2m_mapping) is inferred from reading ' +
        "Xen's source; no bug report confirms it. A release build would return -EILSEQ instead and leave the domain dying forever.",
    );
  }
  return notes;
}
