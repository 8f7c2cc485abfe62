// `checker trace show FILE`: an ITF counterexample rendered for a person (text, with the changed
// cells highlighted on a terminal), or as JSON, Graphviz dot, or a Markdown table.
import { describeEvent, domainName, formatEntry, formatOwner, type Change, type State, type Universe } from '../../model/index.js';
import { UsageError } from './common.js';
import { itfToState, TraceFormatError } from './itf.js';
import { readTraceFile, sameState } from './replay.js';
import { renderLedger } from './report.js';
import { buildTrace, type Trace, type TraceStep } from './trace.js';
import { wire } from './wiring.js';
import { findInvariant } from '../../invariants/index.js';

export interface TraceShowFlags {
  format?: string;
  full?: boolean;
  frame?: string;
  domain?: string;
  color?: boolean;
}

const FORMATS = ['text', 'json', 'dot', 'md'] as const;

interface Projection {
  frame: number | null;
  domain: number | null;
}

/** Whether colour is wanted: a terminal, NO_COLOR unset, and not --no-color. */
export function useColor(flag: boolean | undefined, stream: { isTTY?: boolean }): boolean {
  if (flag === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export async function runTraceShow(file: string, f: TraceShowFlags, out: (s: string) => void, color: boolean): Promise<number> {
  const format = f.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
  const { meta, states, target } = await readTraceFile(file);
  const u = target.u;
  const proj = projection(u, f);
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
  const text =
    format === 'json' ? JSON.stringify(renderJsonTrace(t, u, proj), null, 2) + '\n'
    : format === 'dot' ? renderDot(t, u, proj)
    : format === 'md' ? renderMarkdown(t, u, proj)
    : renderTextTrace(t, u, proj, f.full === true, color);
  out(text);
  return 0;
}

function projection(u: Universe, f: TraceShowFlags): Projection {
  let frame: number | null = null;
  let domain: number | null = null;
  if (f.frame !== undefined) {
    const n = /^\d+$/.test(f.frame) ? Number(f.frame) : NaN;
    const frames = u.domains.length * u.gfns + u.spareFrames;
    if (!(n < frames)) throw new UsageError(`--frame: expected a frame number from 0 to ${frames - 1}, got "${f.frame}"`);
    frame = n;
  }
  if (f.domain !== undefined) {
    const name = /^\d+$/.test(f.domain) ? `dom${f.domain}` : f.domain;
    const i = u.domains.findIndex((d) => `dom${d.id}` === name);
    if (i < 0) throw new UsageError(`--domain: no domain "${f.domain}" in this trace (${u.domains.map((d) => `dom${d.id}`).join(', ')})`);
    domain = i;
  }
  return { frame, domain };
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

function renderJsonTrace(t: Trace, u: Universe, p: Projection): unknown {
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
