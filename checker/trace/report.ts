// What a person reads and what a machine reads.
import type { ExploreResult } from '../engine/index.js';
import { describeEvent, formatChange, hypotheticalConfiguration, type Universe } from '../../model/index.js';
import type { Invariant, Witness } from '../../invariants/index.js';
import { universeToConfig, type VariantRecord } from './itf.js';
import { configurationJson, envelope, stepJson } from './json.js';
import { PLAIN, wrapText, type Style } from './style.js';
import type { Trace } from './build.js';
import { renderCoverage, type CoverageReport } from './coverage.js';

const n = (x: number) => x.toLocaleString('en-US');

export function depthLabel(d: number): string {
  return Number.isFinite(d) ? String(d) : 'all';
}

export interface RunInfo {
  u: Universe;
  /** What is checked when not a plain version: "mutant NAME of BASE", "variant NAME of BASE (FILE)". */
  label: string | null;
  mutant?: string | undefined;
  variantRecord?: VariantRecord | undefined;
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
  /** How the run searched (what --json gives beside the configuration). */
  search: SearchInfo;
  /** With steps granularity: what partial-order reduction did, in a sentence (null with atomic). */
  reductionNote?: string | null;
}

export interface SearchInfo {
  symmetry: boolean;
  workers: number;
  stopAtFirst: boolean;
  maxStates: number | null;
  timeLimitMs: number | null;
  memoryLimitBytes: number;
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

/** What the run checked, for a header: the version, or the mutant or variant and its base. */
export function targetText(u: Universe, label: string | null): string {
  return label === null ? u.version : label;
}

const STOPPED_BY: Record<string, string> = {
  'max-states': '--max-states',
  memory: 'the memory ceiling',
  time: '--time-limit',
  interrupted: 'Ctrl-C',
};

/**
 * The closing line: what holds, what is violated at which depth, and the exit code; a person who
 * scrolled past three counterexamples reads the outcome here.
 */
/** Where an invariant is judged in this run when that is not every state (cleanup-possible with steps), or null. */
function scopeOf(inv: Invariant, u: Universe): string | null {
  return inv.scope?.(u) ?? null;
}

export function verdictLine(info: Pick<RunInfo, 'invariants' | 'result' | 'exitCode' | 'depthBound' | 'u'>, st: Style = PLAIN): string {
  const r = info.result;
  const total = info.invariants.length;
  const deepest = deepestComplete(r);
  const violated = info.invariants
    .map((inv) => r.violations.find((v) => v.name === inv.name))
    .filter((v) => v !== undefined)
    .sort((a, b) => a.depth - b.depth);
  const holding = total - violated.length;
  const reach = r.fixpoint && r.stopped === null ? `to the fixpoint (depth ${deepest})` : `to depth ${deepest}`;
  const parts: string[] = [];
  if (violated.length > 0) {
    parts.push(st.red(st.bold(`${violated.length} of ${total} invariant${total === 1 ? '' : 's'} violated`)) + ` (${violated.map((v) => `${v.name} at depth ${v.depth}`).join(', ')})`);
    if (holding > 0) parts.push(st.green(`${holding} hold${holding === 1 ? 's' : ''} ${reach}`));
  } else {
    parts.push(st.green(st.bold(total === 1 ? `the invariant holds ${reach}` : `all ${total} invariants hold ${reach}`)));
  }
  // a holding invariant judged in only some states says where, in the line that sums the run up
  const scoped = info.invariants.filter((inv) => scopeOf(inv, info.u) !== null && !violated.some((v) => v.name === inv.name));
  if (scoped.length > 0) parts.push(scoped.map((inv) => `${inv.name} judged ${scopeOf(inv, info.u)}`).join(', '));
  if (r.stopped !== null && r.stopped !== 'stop-at-first') parts.push(st.yellow(`stopped by ${STOPPED_BY[r.stopped] ?? r.stopped} before depth ${depthLabel(info.depthBound)}`));
  return `verdict: ${parts.join('; ')}; exit ${info.exitCode}`;
}

export function renderText(info: RunInfo, st: Style = PLAIN): string {
  const { u, result: r } = info;
  const cfg = universeToConfig(u);
  const lines: string[] = [];
  lines.push(
    st.bold(`checker explore: ${targetText(u, info.label)}`) +
      ` on ${u.backend}; domains ${cfg.domains}; ${u.gfns} gfns each, ${u.domains.length * u.gfns + u.spareFrames} frames; ${info.actionCount} actions; depth ${depthLabel(info.depthBound)}` +
      `${info.search.symmetry ? '; symmetry' : ''}${info.search.workers > 1 ? `; ${info.search.workers} workers` : ''}`,
  );
  lines.push('');
  lines.push(st.bold('depth   distinct   generated'));
  for (const l of r.levels) {
    lines.push(`${String(l.depth).padStart(5)} ${n(l.distinct).padStart(10)} ${n(l.generated).padStart(11)}${l.complete ? '' : st.yellow('  (level not finished)')}`);
  }
  const secs = r.elapsedMs / 1000;
  lines.push(`total ${n(r.distinct)} distinct states, ${n(r.generated)} generated, in ${secs.toFixed(2)} s (${n(Math.round(r.statesPerSecond))} distinct states/s)`);
  if (info.reductionNote) lines.push(info.reductionNote);
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
  lines.push(st.bold('invariants'));
  const last = r.levels[r.levels.length - 1]!;
  const deepest = deepestComplete(r);
  const partly = last.complete ? '' : ` (depth ${last.depth} partly explored)`;
  for (const inv of info.invariants) {
    const v = r.violations.find((x) => x.name === inv.name);
    const scope = scopeOf(inv, u);
    const where = scope === null ? '' : ` ${scope}`;
    lines.push(v ? `  ${st.red('✗')} ${inv.name.padEnd(width)}  ${st.red(`violated at depth ${v.depth}`)}${where}` : `  ${st.green('✓')} ${inv.name.padEnd(width)}  holds to depth ${deepest}${partly}${where}`);
  }
  lines.push(st.bold('witnesses'));
  for (const w of info.witnesses) {
    const v = r.witnesses.find((x) => x.name === w.name);
    lines.push(v ? `  ${st.green('✓')} ${w.name.padEnd(width)}  reached at depth ${v.depth}` : `  ${st.dim('·')} ${w.name.padEnd(width)}  ${st.dim('not reached')}`);
  }
  if (info.overrides) {
    lines.push('overrides (times each ran)');
    for (const o of info.overrides) lines.push(`  ${o.calls === 0 ? '·' : '✓'} ${o.name.padEnd(width)}  ${o.calls === 0 ? 'never ran' : o.calls.toLocaleString('en-US')}`);
  }
  if (info.coverage) lines.push('', ...renderCoverage(info.coverage));
  for (const note of info.notes) lines.push('', `note: ${note}`);
  for (const t of info.traces) lines.push('', ...renderCounterexample(t, info.traceFiles.get(t.property), st));
  lines.push('', verdictLine(info, st));
  return wrapText(lines, st.width).join('\n') + '\n';
}

/** One counterexample as a person reads it: numbered steps, the cells each changed, the message. */
export function renderCounterexample(t: Trace, file?: string, st: Style = PLAIN): string[] {
  const lines = [st.bold(`counterexample: ${t.property} (depth ${t.depth})`)];
  for (const s of t.steps) {
    lines.push(`  ${s.index}. ${st.bold(s.text)} → ${s.rc === null || s.rc < 0 ? st.red(s.rcText) : s.rcText}`);
    if (s.changes.length === 0) lines.push(`       ${st.dim('(no change)')}`);
    for (const c of s.changes) lines.push(`       ${formatChange(c)}`);
  }
  lines.push(`  ${st.red('✗')} ${t.property}: ${t.message ?? ''}`);
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

/** The run as one JSON document (docs/schemas/explore.schema.json). */
export function renderJson(info: RunInfo): unknown {
  const { result: r, u } = info;
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
        // where the verdict was judged when not in every state (cleanup-possible with steps), else null
        judgedIn: scopeOf(inv, u),
        message: v?.message ?? null,
        trace: t ? { path: t.path, file: info.traceFiles.get(t.property) ?? null, steps: t.steps.map((s) => stepJson(u, s)) } : null,
      };
    }),
    ...info.witnesses.map((w) => {
      const v = r.witnesses.find((x) => x.name === w.name);
      return { name: w.name, kind: 'witness', verdict: v ? 'reached' : 'not-reached', depth: v ? v.depth : null, path: v ? v.path : null };
    }),
  ];
  const toFixpoint = !Number.isFinite(info.depthBound);
  return {
    ...envelope('explore'),
    configuration: configurationJson(u, info),
    search: {
      // a number, or null with toFixpoint: true for --depth all (never the string "all")
      depthBound: toFixpoint ? null : info.depthBound,
      toFixpoint,
      invariants: info.invariants.map((i) => i.name),
      symmetry: info.search.symmetry,
      exact: info.exact,
      workers: info.search.workers,
      stopAtFirst: info.search.stopAtFirst,
      maxStates: info.search.maxStates,
      timeLimitMs: info.search.timeLimitMs === null ? null : Math.round(info.search.timeLimitMs),
      memoryLimitBytes: info.search.memoryLimitBytes,
    },
    actions: info.actionCount,
    levels: r.levels.map((l) => ({ depth: l.depth, distinct: l.distinct, generated: l.generated, complete: l.complete })),
    totals: { distinct: r.distinct, generated: r.generated },
    // with steps granularity: the transitions sleep sets did not step (not in `generated`)
    reduction: r.reduction ? { method: r.reduction.method, pruned: r.reduction.pruned } : null,
    fixpoint: r.fixpoint,
    stopped: r.stopped,
    elapsedMs: Math.round(r.elapsedMs),
    statesPerSecond: Math.round(r.statesPerSecond),
    peakRssBytes: r.peakRssBytes,
    visitedBytes: r.visitedBytes,
    bytesPerState: r.distinct > 0 ? Math.round((r.visitedBytes / r.distinct) * 100) / 100 : 0,
    collisionProbability: info.exact ? 0 : r.collisionProbability,
    properties,
    overrides: info.overrides ?? null,
    coverage: info.coverage ?? null,
    notes: info.notes,
    verdict: verdictLine(info),
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
