// `checker trace show FILE`, `checker trace export-test FILE` and `checker trace export --format c FILE`.
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { domainName, type Universe } from '../../model/index.js';
import { exportTestSource } from '../trace/export-test.js';
import { compileCommand, reproducerC } from '../trace/reproducer.js';
import { readTraceFile, rebuildTrace } from '../trace/load.js';
import { renderTrace, subjectOf, TRACE_FORMATS, type Projection, type TraceFormat } from '../trace/render.js';
import { UsageError } from './common.js';
import type { TargetFlags } from '../xen-model.js';
import { packageRoot } from '../paths.js';
import { checkOutputFile, ensureDir, writeFileAtomic } from './output.js';

export interface TraceShowFlags extends TargetFlags {
  format?: string;
  full?: boolean;
  frame?: string;
  domain?: string;
  color?: boolean;
  variant?: string;
  whole?: boolean;
  vcpu?: string;
}

export { useColor } from './terminal.js';

export async function runTraceShow(file: string, f: TraceShowFlags, out: (s: string) => void, color: boolean): Promise<number> {
  const format = f.format ?? 'text';
  if (!(TRACE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${TRACE_FORMATS.join(', ')}, got "${format}"`);
  const tf = await readTraceFile(file, { variant: f.variant });
  const u = tf.target.u;
  let proj = projection(u, f);
  if (f.whole && (proj.frame !== null || proj.domain !== null)) throw new UsageError('--whole shows every cell: drop --frame and --domain');
  const t = rebuildTrace(tf);
  // the pictures project onto what the violation is about unless told otherwise: a graph of every
  // cell of every step hides the one that matters
  if ((format === 'dot' || format === 'md') && !f.whole && proj.frame === null && proj.domain === null) proj = subjectOf(t, u);
  const target = { mutant: tf.target.mutant, variantRecord: tf.target.variantRecord, variantFile: f.variant };
  out(renderTrace(t, u, format as TraceFormat, proj, { full: f.full === true, color, target, file }));
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
    const i = u.domains.findIndex((_, k) => domainName(u, k) === name);
    if (i < 0) throw new UsageError(`--domain: no domain "${f.domain}" in this trace (${u.domains.map((_, k) => domainName(u, k)).join(', ')})`);
    domain = i;
  }
  let vcpu: number | null = null;
  if (f.vcpu !== undefined) {
    if (u.granularity !== 'steps') throw new UsageError('--vcpu: this trace is of atomic granularity (one hypercall per step, no vCPUs)');
    const n = /^\d+$/.test(f.vcpu) ? Number(f.vcpu) : NaN;
    if (!(n < u.vcpus)) throw new UsageError(`--vcpu: expected a vCPU from 0 to ${u.vcpus - 1}, got "${f.vcpu}"`);
    vcpu = n;
  }
  return { frame, domain, vcpu };
}

export interface ExportTestFlags {
  out?: string;
  force?: boolean;
  variant?: string;
  expect?: string;
}

/** The config a generated test runs with: vitest's defaults, whatever folder it is in. */
export const EXPORTED_TEST_CONFIG = 'vitest.exported.config.mjs';

/** A path as the user would type it from `cwd`: relative when under it, else absolute. */
function typed(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const shq = (a: string) => (/^[\w.,:/=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

export async function runExportTest(file: string, f: ExportTestFlags, out: (s: string) => void): Promise<number> {
  const outFile = resolve(f.out ?? `${basename(file).replace(/\.itf\.json$|\.json$/, '')}.test.ts`);
  // only a test file: never a source of the project or anything else a mistyped --out could name
  if (!outFile.endsWith('.test.ts')) throw new UsageError('--out: the test file must end in .test.ts (e.g. leak.test.ts)');
  checkOutputFile(outFile, '--out', { overwrite: f.force === true });
  const expect = f.expect ?? 'violated';
  if (expect !== 'violated' && expect !== 'fixed') throw new UsageError(`--expect: violated (the bug stays caught) or fixed (the fix stays a fix), not "${expect}"`);
  const tf = await readTraceFile(file, { variant: f.variant });
  // a test of an edited trace would assert what the model never did: the trace is checked first
  rebuildTrace(tf);
  const src = exportTestSource(tf, outFile, expect);
  ensureDir(dirname(outFile), '--out');
  writeFileAtomic(outFile, src, '--out');
  // A command that works from here: vitest from the checker's own install, with a config that finds
  // the file wherever it is (the project's own config only looks under test/).
  const cwd = process.cwd();
  const root = packageRoot();
  const inside = !relative(root, cwd).startsWith('..');
  const cmd = [
    'npx',
    ...(inside ? [] : ['--prefix', typed(root, cwd)]),
    'vitest',
    'run',
    '--config',
    typed(resolve(root, EXPORTED_TEST_CONFIG), cwd),
    '--root',
    typed(dirname(outFile), cwd),
    basename(outFile),
  ];
  out(`wrote ${outFile}\nrun it with: ${cmd.map(shq).join(' ')}\n`);
  return 0;
}

export interface TraceExportFlags {
  format?: string;
  out?: string;
  force?: boolean;
  variant?: string;
  gfnBase?: string;
}

/** The formats `trace export` writes. */
export const EXPORT_FORMATS = ['c'] as const;

/** A gfn as the user types it: decimal or 0x hexadecimal. */
function parseGfn(v: string, option: string): bigint {
  const t = v.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) throw new UsageError(`${option}: expected a gfn, decimal or 0x hexadecimal (e.g. 0x10000), got "${v}"`);
  const n = BigInt(t);
  if (n >= 1n << 40n) throw new UsageError(`${option}: ${v} is beyond any guest's physical address space (at most 2^40 gfns)`);
  return n;
}

/**
 * `checker trace export --format c FILE`: the counterexample as a C program for dom0 of a real Xen
 * host (checker/trace/reproducer.ts), written whole or not at all.
 */
export async function runTraceExport(file: string, f: TraceExportFlags, out: (s: string) => void): Promise<number> {
  const format = f.format;
  if (format === undefined) throw new UsageError(`--format is required: ${EXPORT_FORMATS.join(', ')} (c: a reproducer for a Xen host)`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`);
  const outFile = resolve(f.out ?? `${basename(file).replace(/\.itf\.json$|\.json$/, '')}.c`);
  // only a C file: a mistyped --out must not replace anything else
  if (!outFile.endsWith('.c')) throw new UsageError('--out: the program must end in .c (e.g. leak.c)');
  checkOutputFile(outFile, '--out', { overwrite: f.force === true });
  const gfnBase = f.gfnBase === undefined ? undefined : parseGfn(f.gfnBase, '--gfn-base');
  const tf = await readTraceFile(file, { variant: f.variant });
  const r = reproducerC(tf, { gfnBase });
  ensureDir(dirname(outFile), '--out');
  writeFileAtomic(outFile, r.source, '--out');
  const shown = typed(outFile, process.cwd());
  const program = basename(outFile).replace(/\.c$/, '');
  out(
    [
      `wrote ${outFile} (${r.kind})`,
      ...r.notes.filter((n) => !n.startsWith('kind ')).map((n) => `note: ${n}`),
      `build it on the host: ${compileCommand(shown, program)}`,
      `run it as root in dom0: ./${program}   (./${program} --dry-run shows what it would do; docs/reproducers.md says what each outcome means)`,
    ].join('\n') + '\n',
  );
  return 0;
}
