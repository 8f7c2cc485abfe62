// A counterexample rendered for a person (text, with the changed cells highlighted on a terminal),
// or as JSON, Graphviz dot, or a Markdown table; each can be projected onto one frame or domain.
import { describeEvent, domainName, formatEntry, formatOwner, type Change, type State, type Universe } from '../../model/index.js';
import { renderLedger } from './report.js';
import { replayCommand, shellJoin } from './command.js';
import type { VariantRecord } from './itf.js';
import { configurationJson, envelope, typedArgs } from './json.js';
import { makeStyle, wrapLine } from './style.js';
import type { Trace, TraceStep } from './build.js';

export const TRACE_FORMATS = ['text', 'json', 'dot', 'md'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** What a rendering keeps: one frame, one domain (an index), or everything (both null). */
export interface Projection {
  frame: number | null;
  domain: number | null;
  /** With steps granularity: only the segments this vCPU ran (null or absent: every vCPU's). */
  vcpu?: number | null;
}

export interface RenderOptions {
  full?: boolean;
  color?: boolean;
  /** What the trace is of, beside its universe: a mutant, or a variant (its record, and its file if the reader named one). */
  target?: { mutant?: string | undefined; variantRecord?: VariantRecord | undefined; variantFile?: string | undefined };
  /** The trace file, for the command that replays it. */
  file?: string;
}

/** Renders a trace in one of the formats. */
export function renderTrace(t: Trace, u: Universe, format: TraceFormat, p: Projection, o: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(renderJsonTrace(t, u, p, o), null, 2) + '\n';
    case 'dot':
      return renderDot(t, u, p);
    case 'md':
      return renderMarkdown(t, u, p, o);
    case 'text':
      return renderTextTrace(t, u, p, o.full === true, o.color === true);
  }
}

/**
 * What a violation is about: the frame of a reference-count property, else the first frame or else the
 * first domain its message names; the pictures (DOT, Markdown) project onto it unless told otherwise.
 */
export function subjectOf(t: Trace, u: Universe): Projection {
  if (t.frame !== null) return { frame: t.frame, domain: null };
  const msg = t.message ?? '';
  const fm = /\bframe (\d+)\b/.exec(msg);
  const frames = u.domains.length * u.gfns + u.spareFrames;
  if (fm && Number(fm[1]) < frames) return { frame: Number(fm[1]), domain: null };
  const dm = /\bdom(\d+)\b/.exec(msg);
  const d = dm ? u.domains.findIndex((_, k) => domainName(u, k) === `dom${dm[1]}`) : -1;
  return d >= 0 ? { frame: null, domain: d } : { frame: null, domain: null };
}

/**
 * The cells the violation is about, in the last state: the frame (owner, count, allocation, m2p) and
 * every p2m entry that maps it; or the domain and its p2m row.
 */
export function offendingCells(t: Trace, u: Universe, p: Projection): string[] {
  const last = t.states[t.states.length - 1]!;
  const out: string[] = [];
  if (p.frame !== null) {
    const f = last.frames[p.frame]!;
    out.push(`frames[${p.frame}] owner ${formatOwner(u, f.owner)}, count ${f.count}, allocated ${f.allocated}, m2p ${f.m2p === null ? 'none' : `gfn ${f.m2p}`}`);
    last.p2m.forEach((row, d) =>
      row.forEach((e, g) => {
        if (e !== null && e.mfn === p.frame) out.push(`p2m[${domainName(u, d)}][${g}] ${formatEntry(e)} (${last.domains[d]!.life})`);
      }),
    );
  } else if (p.domain !== null) {
    const d = last.domains[p.domain]!;
    out.push(`domains[${domainName(u, p.domain)}] ${d.life}${d.relinquish ? `, relinquish ${d.relinquish.phase}@${d.relinquish.cursor}` : ''}`);
    out.push(`p2m[${domainName(u, p.domain)}] ${last.p2m[p.domain]!.map((e, g) => `${g}: ${formatEntry(e)}`).join(', ')}`);
    last.frames.forEach((f, m) => {
      if (f.owner === p.domain) out.push(`frames[${m}] owner ${formatOwner(u, f.owner)}, count ${f.count}, allocated ${f.allocated}`);
    });
  }
  if (last.fault) out.push(`fault ${last.fault.kind}${last.fault.frame === null ? '' : ` (frame ${last.fault.frame})`}`);
  return out;
}

function scopeText(u: Universe, p: Projection): string {
  return p.frame !== null ? `frame ${p.frame}` : p.domain !== null ? domainName(u, p.domain) : 'everything';
}

/**
 * A step's changes kept by the projection (all of them without one): onto a frame, the cells of that
 * frame and the entries mapping it; onto a domain, its own cells and those of the frames it owns
 * before or after the step.
 */
function keptChanges(t: Trace, s: TraceStep, p: Projection): Change[] {
  const before = t.states[s.index - 1]!;
  const after = t.states[s.index]!;
  const ownedBy = (m: number, d: number) => before.frames[m]!.owner === d || after.frames[m]!.owner === d;
  return s.changes.filter(
    (c) =>
      (p.frame === null || c.frame === p.frame) &&
      (p.domain === null || c.domain === p.domain || (c.domain === undefined && c.frame !== undefined && ownedBy(c.frame, p.domain))),
  );
}

/** Whether a step touches the projected frame or domain. */
function touches(t: Trace, s: TraceStep, p: Projection, u: Universe): boolean {
  if (p.vcpu != null && s.action.vcpu !== p.vcpu) return false;
  if (p.frame === null && p.domain === null) return true;
  if (keptChanges(t, s, p).length > 0) return true;
  if (p.frame !== null && s.ledger.some((e) => e.frame === p.frame)) return true;
  return p.domain !== null && Object.values(s.args).includes(domainName(u, p.domain));
}

function stateLines(u: Universe, s: State): string[] {
  const out: string[] = [];
  s.frames.forEach((f, m) => {
    out.push(`frames[${m}] owner ${formatOwner(u, f.owner)}, count ${f.count}, allocated ${f.allocated}, m2p ${f.m2p === null ? 'none' : `gfn ${f.m2p}`}`);
  });
  s.domains.forEach((d, i) => out.push(`domains[${domainName(u, i)}] ${d.life}${d.logDirty ? ', log-dirty' : ''}${d.relinquish ? `, relinquish ${d.relinquish.phase}@${d.relinquish.cursor}` : ''}`));
  s.p2m.forEach((row, d) => out.push(`p2m[${domainName(u, d)}] ${row.map((e, g) => `${g}: ${formatEntry(e)}`).join(', ')}`));
  if (s.fault) out.push(`fault ${s.fault.kind}${s.fault.frame === null ? '' : ` (frame ${s.fault.frame})`}`);
  return out;
}

export function renderTextTrace(t: Trace, u: Universe, p: Projection, full: boolean, color: boolean): string {
  const c = makeStyle(color);
  const lines: string[] = [];
  const scope =
    (p.frame !== null ? ` (projected on frame ${p.frame})` : p.domain !== null ? ` (projected on ${domainName(u, p.domain)})` : '') +
    (p.vcpu != null ? ` (the segments of vcpu${p.vcpu})` : '');
  lines.push(`counterexample: ${t.property} (depth ${t.depth}), ${u.version} on ${u.backend}${scope}`);
  if (full) lines.push('  0. booted', ...stateLines(u, t.states[0]!).map((l) => `       ${l}`));
  for (const s of t.steps) {
    if (!touches(t, s, p, u)) continue;
    lines.push(`  ${s.index}. ${c.bold(s.text)} → ${s.rc === null || s.rc < 0 ? c.red(s.rcText) : s.rcText}`);
    const changes = keptChanges(t, s, p);
    if (full) {
      const changed = new Set(s.changes.map((x) => x.cell.split('.')[0]));
      for (const l of stateLines(u, t.states[s.index]!)) {
        const cell = l.split(' ')[0]!;
        lines.push(`       ${changed.has(cell) ? c.green(l) : c.dim(l)}`);
      }
    } else {
      if (changes.length === 0) lines.push(`       ${c.dim('(no change)')}`);
      for (const x of changes) lines.push(`       ${x.cell} ${c.red(x.before)} → ${c.green(x.after)}`);
    }
    if (p.frame !== null) {
      for (const e of s.ledger.filter((e) => e.frame === p.frame)) lines.push(`       ${c.dim(describeEvent(e))}`);
    }
  }
  lines.push(`  ${c.red('✗')} ${t.property}: ${t.message ?? ''}`);
  const frame = p.frame ?? t.frame;
  if (frame !== null && (t.frame !== null || p.frame !== null)) lines.push(...renderLedger(t, frame).map((l) => `  ${l}`));
  lines.push(`  replay token: ${t.path.join(',') || '(initial state)'}`);
  return lines.join('\n') + '\n';
}

/** A counterexample as one JSON document (docs/schemas/trace-show.schema.json). */
export function renderJsonTrace(t: Trace, u: Universe, p: Projection, o: RenderOptions = {}): unknown {
  return {
    ...envelope('trace show'),
    configuration: configurationJson(u, o.target ?? {}),
    property: t.property,
    message: t.message ?? null,
    depth: t.depth,
    version: u.version,
    backend: u.backend,
    path: t.path,
    projection: { frame: p.frame, domain: p.domain === null ? null : domainName(u, p.domain) },
    steps: t.steps
      .filter((s) => touches(t, s, p, u))
      .map((s) => ({
        step: s.index,
        actionIndex: s.actionIndex,
        action: s.action.op,
        args: typedArgs(u, s.action),
        rc: s.rc,
        rcText: s.rcText,
        changes: keptChanges(t, s, p).map(({ cell, before, after }) => ({ cell, before, after })),
        ledger: s.ledger.filter((e) => p.frame === null || e.frame === p.frame).map((e) => ({ frame: e.frame, delta: e.delta, what: e.what, in: e.stack[e.stack.length - 1] ?? null, stack: e.stack, note: e.note ?? null })),
      })),
    ledger: t.frame !== null || p.frame !== null ? renderLedger(t, (p.frame ?? t.frame)!) : null,
    offendingCells: offendingCells(t, u, p.frame === null && p.domain === null ? subjectOf(t, u) : p),
    replay: replayCommand(u, t.path, commandTarget(o)),
  };
}

function commandTarget(o: RenderOptions): { mutant?: string | undefined; variantFile?: string | undefined } {
  const v = o.target?.variantRecord;
  return { mutant: o.target?.mutant, variantFile: v === undefined ? undefined : (o.target?.variantFile ?? `<the file of variant ${v.name}>`) };
}

const dotEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * A Graphviz picture: one node per state with the cells its step changed (in the projection), one edge
 * per hypercall, and the last node red with the violation's message and the offending cells.
 */
export function renderDot(t: Trace, u: Universe, p: Projection): string {
  const lines = ['digraph counterexample {', '  rankdir=TB;', '  node [shape=box, fontname="monospace", fontsize=10];'];
  const scope = p.frame === null && p.domain === null ? '' : `, projected on ${scopeText(u, p)}`;
  lines.push(`  label="${dotEscape(`${t.property} (depth ${t.depth}), ${u.version} on ${u.backend}${scope}`)}"; labelloc=t;`);
  lines.push(`  s0 [label="booted"];`);
  let prev = 's0';
  const cells = offendingCells(t, u, p.frame === null && p.domain === null ? subjectOf(t, u) : p);
  for (const s of t.steps) {
    const last = s.index === t.steps.length;
    if (!last && !touches(t, s, p, u)) continue;
    const id = `s${s.index}`;
    const changed = keptChanges(t, s, p).map((x) => `${x.cell}: ${x.before} → ${x.after}`);
    const tail = last ? ['', `✗ ${t.property}:`, ...wrapLine(t.message ?? '', 70), '', 'offending cells:', ...cells] : [];
    const label = [`state ${s.index}`, ...changed, ...tail].map(dotEscape).join('\\l') + '\\l';
    lines.push(`  ${id} [label="${label}"${last ? ', color=red, fontcolor=red' : ''}];`);
    lines.push(`  ${prev} -> ${id} [label="${dotEscape(`${s.index}. ${s.text} → ${s.rcText}`)}"];`);
    prev = id;
  }
  if (t.steps.length === 0) {
    lines.push(`  v [label="${[`✗ ${t.property}:`, ...wrapLine(t.message ?? '', 70), '', 'offending cells:', ...cells].map(dotEscape).join('\\l')}\\l", color=red, fontcolor=red];`, '  s0 -> v;');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

/**
 * A Markdown report for a bug: the violation, the full configuration, the steps (projected onto the
 * violated frame or domain unless told otherwise), the offending cells, the ledger, and the commands
 * that reproduce it.
 */
export function renderMarkdown(t: Trace, u: Universe, p: Projection, o: RenderOptions = {}): string {
  const cfg = configurationJson(u, o.target ?? {});
  const lines = [`**${t.property}** violated at depth ${t.depth} (${u.version} on ${u.backend})`, '', `> ${mdEscape(t.message ?? '')}`, ''];
  lines.push('| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(cfg)) {
    const shown = v === null ? '—' : Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? `${v.name} (sha256 ${v.sha256.slice(0, 12)}…)` : String(v);
    lines.push(`| ${k} | ${mdEscape(shown)} |`);
  }
  const scope = p.frame === null && p.domain === null ? 'every step' : `the steps that touch ${scopeText(u, p)}`;
  lines.push('', `Steps (${scope}):`, '', '| # | hypercall | rc | changed cells |', '|---|---|---|---|');
  for (const s of t.steps) {
    if (!touches(t, s, p, u)) continue;
    const cells = keptChanges(t, s, p).map((x) => `\`${x.cell}\` ${x.before} → ${x.after}`).join('<br>');
    lines.push(`| ${s.index} | \`${mdEscape(s.text)}\` | ${s.rcText} | ${mdEscape(cells || '(no change)')} |`);
  }
  const cells = offendingCells(t, u, p.frame === null && p.domain === null ? subjectOf(t, u) : p);
  if (cells.length > 0) lines.push('', 'Offending cells after the last step:', '', ...cells.map((c) => `- \`${c}\``));
  const frame = p.frame ?? t.frame;
  if (frame !== null) lines.push('', '```', ...renderLedger(t, frame), '```');
  lines.push('', 'Reproduce:', '', '```sh', replayCommand(u, t.path, commandTarget(o)));
  if (o.file !== undefined) lines.push(shellJoin(['checker', 'replay', o.file, ...(o.target?.variantRecord ? ['--variant', commandTarget(o).variantFile!] : [])]));
  lines.push('```', '', `Replay token: \`${t.path.join(',')}\``);
  return lines.join('\n') + '\n';
}
