// `explore --coverage`: what the exploration exercised. Per operation and return code, how many
// transitions, distinct successors and self-loops; per Xen function of the table in force (a
// variant's overrides named as such), how many times it ran and which of its blocks never did. The
// answer to "did my patch's code run at all" (TLC's -coverage, at the level of the model's code).
import { relative } from 'node:path';
import type { ExploreResult, FunctionCoverage } from '../engine/index.js';
import type { XenFunctions } from '../../model/index.js';
import { packageRoot } from '../paths.js';

export interface TransitionCoverage {
  op: string;
  rc: string;
  transitions: number;
  distinct: number;
  selfLoops: number;
}

export interface XenFunctionCoverage {
  /** The table entry (p2mAddForeign). */
  name: string;
  /** The function in force (p2mAddForeign419, or the variant's own). */
  implementation: string;
  override: boolean;
  calls: number;
  /** Blocks of its code that never ran: file:lines and the first line's text. */
  neverRan: { at: string; text: string }[];
}

export interface CoverageReport {
  transitions: TransitionCoverage[];
  functions: XenFunctionCoverage[];
}

export function coverageReport(result: ExploreResult, xen: XenFunctions): CoverageReport {
  const t = result.tallies ?? {};
  const classes = new Set<string>();
  for (const k of Object.keys(t)) if (k.startsWith('tr:')) classes.add(k.slice(3));
  const transitions = [...classes]
    .map((key) => {
      const [op, rc] = key.split('|') as [string, string];
      return { op, rc, transitions: t[`tr:${key}`] ?? 0, distinct: t[`new:${key}`] ?? 0, selfLoops: t[`self:${key}`] ?? 0 };
    })
    .sort((a, b) => a.op.localeCompare(b.op) || rcOrder(a.rc) - rcOrder(b.rc));
  const code = result.codeCoverage ?? [];
  const cwd = process.cwd();
  const root = packageRoot();
  // the model's files as the project names them, a user's as they typed them
  const shown = (file: string) => (file.startsWith(root) ? relative(root, file) : relative(cwd, file) || file);
  const functions: XenFunctionCoverage[] = [];
  for (const [name, fn] of Object.entries(xen)) {
    if (typeof fn !== 'function') continue;
    const f = fn as { implementation?: string; override?: boolean; name: string };
    const implementation = f.implementation ?? f.name;
    const override = f.override === true;
    const matches = code.filter((c: FunctionCoverage) => c.name === implementation && (override ? !c.file.includes('/model/') : c.file.includes('/model/')));
    // an optional chain's short cut (the ledger, off while exploring) is no branch of the C
    const neverRan = matches.flatMap((c) =>
      c.uncovered.filter((b) => !b.text.startsWith('?.')).map((b) => ({ at: `${shown(c.file)}:${b.startLine}${b.endLine > b.startLine ? `-${b.endLine}` : ''}`, text: b.text })),
    );
    functions.push({ name, implementation, override, calls: t[`call:${name}`] ?? 0, neverRan });
  }
  return { transitions, functions };
}

const rcOrder = (rc: string) => (rc === '0' ? 0 : rc === 'FAULT' ? 2 : 1);

export function renderCoverage(c: CoverageReport): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = ['coverage: transitions by operation and return code', '  operation                  rc           transitions    distinct  self-loops'];
  for (const r of c.transitions) {
    lines.push(`  ${r.op.padEnd(26)} ${r.rc.padEnd(10)} ${n(r.transitions).padStart(13)} ${n(r.distinct).padStart(11)} ${n(r.selfLoops).padStart(11)}`);
  }
  lines.push('coverage: Xen functions of the table in force (calls; blocks that never ran)');
  for (const f of c.functions) {
    const who = f.implementation === f.name ? f.name : `${f.name} = ${f.implementation}`;
    const tag = f.override ? ' [override]' : '';
    if (f.calls === 0) {
      lines.push(`  · ${who}${tag}: never ran`);
      continue;
    }
    lines.push(`  ${f.neverRan.length === 0 ? '✓' : '~'} ${who}${tag}: ${n(f.calls)} call${f.calls === 1 ? '' : 's'}${f.neverRan.length ? `; never ran: ${f.neverRan.length} block${f.neverRan.length === 1 ? '' : 's'}` : ''}`);
    for (const b of f.neverRan) lines.push(`      ${b.at}  ${b.text}`);
  }
  return lines;
}
