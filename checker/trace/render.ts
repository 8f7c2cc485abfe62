// A counterexample rendered for a person (text, with the changed cells highlighted on a terminal),
// or as JSON, Graphviz dot, or a Markdown table; each can be projected onto one frame or domain.
import { describeEvent, domainName, formatEntry, formatOwner, type Change, type State, type Universe } from '../../model/index.js';
import { renderLedger } from './report.js';
import type { Trace, TraceStep } from './build.js';

export const TRACE_FORMATS = ['text', 'json', 'dot', 'md'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** What a rendering keeps: one frame, one domain (an index), or everything (both null). */
export interface Projection {
  frame: number | null;
  domain: number | null;
}

/** Renders a trace in one of the formats. */
export function renderTrace(t: Trace, u: Universe, format: TraceFormat, p: Projection, o: { full?: boolean; color?: boolean } = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(renderJsonTrace(t, u, p), null, 2) + '\n';
    case 'dot':
      return renderDot(t, u, p);
    case 'md':
      return renderMarkdown(t, u, p);
    case 'text':
      return renderTextTrace(t, u, p, o.full === true, o.color === true);
  }
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
  if (p.frame === null && p.domain === null) return true;
  if (keptChanges(t, s, p).length > 0) return true;
  if (p.frame !== null && s.ledger.some((e) => e.frame === p.frame)) return true;
  return p.domain !== null && Object.values(s.args).includes(domainName(u, p.domain));
}

const ESC = {
  bold: (s: string) => `\u001b[1m${s}\u001b[22m`,
  red: (s: string) => `\u001b[31m${s}\u001b[39m`,
  green: (s: string) => `\u001b[32m${s}\u001b[39m`,
  dim: (s: string) => `\u001b[2m${s}\u001b[22m`,
};

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
  const c = color ? ESC : { bold: (s: string) => s, red: (s: string) => s, green: (s: string) => s, dim: (s: string) => s };
  const lines: string[] = [];
  const scope = p.frame !== null ? ` (projected on frame ${p.frame})` : p.domain !== null ? ` (projected on ${domainName(u, p.domain)})` : '';
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

export function renderJsonTrace(t: Trace, u: Universe, p: Projection): unknown {
  return {
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
        action: s.action.op,
        args: s.args,
        rc: s.rc,
        rcText: s.rcText,
        changes: keptChanges(t, s, p).map(({ cell, before, after }) => ({ cell, before, after })),
        ledger: s.ledger.filter((e) => p.frame === null || e.frame === p.frame).map((e) => ({ frame: e.frame, delta: e.delta, what: e.what, in: e.stack[e.stack.length - 1] ?? null, stack: e.stack, note: e.note ?? null })),
      })),
    ledger: t.frame !== null || p.frame !== null ? renderLedger(t, (p.frame ?? t.frame)!) : null,
  };
}

const dotEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

export function renderDot(t: Trace, u: Universe, p: Projection): string {
  const lines = ['digraph counterexample {', '  rankdir=TB;', '  node [shape=box, fontname="monospace", fontsize=10];'];
  lines.push(`  label="${dotEscape(`${t.property} (depth ${t.depth}), ${u.version} on ${u.backend}`)}"; labelloc=t;`);
  lines.push(`  s0 [label="booted"];`);
  let prev = 's0';
  for (const s of t.steps) {
    if (!touches(t, s, p, u)) continue;
    const id = `s${s.index}`;
    const cells = keptChanges(t, s, p).map((x) => `${x.cell}: ${x.before} → ${x.after}`);
    const last = s.index === t.steps.length;
    const label = [`state ${s.index}`, ...cells, ...(last ? [`✗ ${t.property}`] : [])].map(dotEscape).join('\\l') + '\\l';
    lines.push(`  ${id} [label="${label}"${last ? ', color=red, fontcolor=red' : ''}];`);
    lines.push(`  ${prev} -> ${id} [label="${dotEscape(`${s.index}. ${s.text} → ${s.rcText}`)}"];`);
    prev = id;
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(t: Trace, u: Universe, p: Projection): string {
  const lines = [`**${t.property}** violated at depth ${t.depth} (${u.version} on ${u.backend})`, '', '| # | hypercall | rc | changed cells |', '|---|---|---|---|'];
  for (const s of t.steps) {
    if (!touches(t, s, p, u)) continue;
    const cells = keptChanges(t, s, p).map((x) => `\`${x.cell}\` ${x.before} → ${x.after}`).join('<br>');
    lines.push(`| ${s.index} | \`${mdEscape(s.text)}\` | ${s.rcText} | ${mdEscape(cells || '(no change)')} |`);
  }
  lines.push('', `> ${t.property}: ${t.message ?? ''}`);
  const frame = p.frame ?? t.frame;
  if (frame !== null) lines.push('', '```', ...renderLedger(t, frame), '```');
  lines.push('', `Replay token: \`${t.path.join(',')}\``);
  return lines.join('\n') + '\n';
}
