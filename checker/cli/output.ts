// Files the command line writes. Every output is checked before the run (a run of minutes must not
// end with "cannot write"), the report is printed before files are written, and each file is written
// atomically (a temporary file in the same folder, then a rename), so that a run that fails or is
// killed while writing never leaves half a trace or half an XML file behind.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Universe } from '../../model/index.js';
import type { Trace } from '../trace/build.js';
import { traceToItf, type VariantRecord } from '../trace/itf.js';
import type { Target } from '../xen-model.js';
import { TOOL, UsageError } from './common.js';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** The nearest folder of `path` (itself included) that exists; a file on the way is an error. */
function nearestExisting(path: string, option: string): string {
  let cur = resolve(path);
  for (;;) {
    let st;
    try {
      st = statSync(cur);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) return cur;
    if (st) throw new UsageError(`${option}: ${cur} exists and is not a directory`);
    const up = dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

/**
 * Whether files can be created in `dir`: a probe file is created and removed (permission bits say
 * little: root passes them, and /proc or a read-only mount refuse anyway). Nothing is left behind.
 */
function probe(dir: string, option: string, shown: string): void {
  const p = join(dir, `.checker-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let fd: number;
  try {
    fd = openSync(p, 'wx');
  } catch (e) {
    throw new UsageError(`${option}: cannot write into ${shown} (${code(e)})`);
  }
  closeSync(fd);
  try {
    unlinkSync(p);
  } catch {
    // removed by someone else: nothing to clean
  }
}

/**
 * Refuses, before the run, an output folder that cannot be made or written. Creates nothing: the
 * folder is made when the files are written, after the run.
 */
export function checkOutputDir(dir: string, option: string): void {
  const near = nearestExisting(dir, option);
  probe(near, option, near === resolve(dir) ? dir : `${near} (to create ${dir})`);
}

/** Refuses, before the run, an output file that cannot be written (or must not be overwritten). */
export function checkOutputFile(file: string, option: string, o: { overwrite: boolean } = { overwrite: true }): void {
  const abs = resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new UsageError(`${option}: ${file} is a directory`);
  if (st && !o.overwrite) throw new UsageError(`${option}: ${file} exists; pass --force to overwrite it`);
  if (st && !st.isFile()) throw new UsageError(`${option}: ${file} is not a regular file`);
  checkOutputDir(dirname(abs), option);
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
      throw new UsageError(`${option}: cannot create ${cur} (${code(e)})`);
    }
  }
}

/** Writes a file whole or not at all: a temporary file beside it, then a rename over it. */
export function writeFileAtomic(file: string, data: string, option: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (e) {
    try {
      if (existsSync(tmp)) unlinkSync(tmp);
    } catch {
      // nothing more can be done: the error below says what failed
    }
    throw new UsageError(`${option}: cannot write ${file} (${code(e)})`);
  }
}

/** Where each trace goes: DIR/<property>.itf.json (known before writing, for the report). */
export function traceFileNames(dir: string, traces: readonly Trace[]): Map<string, string> {
  return new Map(traces.map((t) => [t.property, join(dir, `${t.property}.itf.json`)]));
}

/** Writes each trace as DIR/<property>.itf.json, atomically; returns property → file. */
export function writeTraces(
  dir: string,
  u: Universe,
  traces: Trace[],
  target: Pick<Target, 'mutant'> & { variantRecord?: VariantRecord | undefined },
): Map<string, string> {
  ensureDir(dir, '--trace-out');
  const files = traceFileNames(dir, traces);
  for (const t of traces) {
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
      variant: target.variantRecord,
    });
    writeFileAtomic(files.get(t.property)!, JSON.stringify(itf, null, 1) + '\n', '--trace-out');
  }
  return files;
}
