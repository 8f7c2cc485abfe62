// `checker trace show FILE` and `checker trace export-test FILE`.
import { writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { domainName, type Universe } from '../../model/index.js';
import { exportTestSource } from '../trace/export-test.js';
import { readTraceFile, rebuildTrace } from '../trace/load.js';
import { renderTrace, TRACE_FORMATS, type Projection, type TraceFormat } from '../trace/render.js';
import { UsageError } from './common.js';
import { ensureDir } from './output.js';

export interface TraceShowFlags {
  format?: string;
  full?: boolean;
  frame?: string;
  domain?: string;
  color?: boolean;
}

/** Whether colour is wanted: a terminal, NO_COLOR unset, and not --no-color. */
export function useColor(flag: boolean | undefined, stream: { isTTY?: boolean }): boolean {
  if (flag === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export async function runTraceShow(file: string, f: TraceShowFlags, out: (s: string) => void, color: boolean): Promise<number> {
  const format = f.format ?? 'text';
  if (!(TRACE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${TRACE_FORMATS.join(', ')}, got "${format}"`);
  const tf = await readTraceFile(file);
  const u = tf.target.u;
  const proj = projection(u, f);
  const t = rebuildTrace(tf);
  out(renderTrace(t, u, format as TraceFormat, proj, { full: f.full === true, color }));
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
  return { frame, domain };
}

export interface ExportTestFlags {
  out?: string;
}

export async function runExportTest(file: string, f: ExportTestFlags, out: (s: string) => void): Promise<number> {
  const tf = await readTraceFile(file);
  const outFile = resolve(f.out ?? `${basename(file).replace(/\.itf\.json$|\.json$/, '')}.test.ts`);
  if (!outFile.endsWith('.ts')) throw new UsageError('--out: the test file must end in .ts (e.g. leak.test.ts)');
  const src = exportTestSource(tf, outFile);
  ensureDir(dirname(outFile), '--out');
  writeFileSync(outFile, src);
  out(`wrote ${outFile}: run it with npx vitest run ${relative(process.cwd(), outFile) || outFile}\n`);
  return 0;
}
