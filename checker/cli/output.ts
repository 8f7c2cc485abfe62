// Files the command line writes: folders made on demand, traces as ITF.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Universe } from '../../model/index.js';
import type { Trace } from '../trace/build.js';
import { traceToItf } from '../trace/itf.js';
import type { Target } from '../xen-model.js';
import { TOOL, UsageError } from './common.js';

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
      throw new UsageError(`${option}: cannot create ${cur} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}

/** Writes each trace as DIR/<property>.itf.json; returns property → file. */
export function writeTraces(dir: string, u: Universe, traces: Trace[], target: Pick<Target, 'mutant' | 'variant'>): Map<string, string> {
  ensureDir(dir, '--trace-out');
  const files = new Map<string, string>();
  for (const t of traces) {
    const file = join(dir, `${t.property}.itf.json`);
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
      variant: target.variant,
    });
    writeFileSync(file, JSON.stringify(itf, null, 1) + '\n');
    files.set(t.property, file);
  }
  return files;
}
