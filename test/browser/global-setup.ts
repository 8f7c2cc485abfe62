// Before the browser tests: xen-4.19's race at steps granularity, found by the checker itself as a
// user would (checker explore ... --depth 25 --trace-out DIR). It takes half a minute on one core, so
// it starts here, beside the first test files (which use the browser), and the file that needs it
// waits for it (raceTrace in setup.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CLI, ROOT } from '../cli-run.js';

/** The command line that finds the race (the issue's own). */
export const RACE_ARGS = [
  'explore',
  '--xen',
  'xen-4.19',
  '--granularity',
  'steps',
  '--vcpus',
  '2',
  '--ops',
  'decrease_reservation,add_to_physmap_foreign,remove_from_physmap',
  '--invariants',
  'no-dangling-mapping',
  '--depth',
  '25',
];

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the race's trace goes (race/no-dangling-mapping.itf.json), and `race.exit` once explore ends. */
    raceDir: string;
  }
}

let child: ChildProcess | null = null;
let dir = '';

export default function setup(project: TestProject): () => void {
  dir = mkdtempSync(join(tmpdir(), 'checker-browser-race-'));
  child = spawn(process.execPath, [CLI, ...RACE_ARGS, '--trace-out', join(dir, 'race')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.on('exit', (code) => writeFileSync(join(dir, 'race.exit'), JSON.stringify({ code, stderr: err.slice(-2000) })));
  const here = dir;
  project.provide('raceDir', dir);
  return () => {
    // not needed after all (a run of some files only): stopped, and nothing written after the folder goes
    if (child !== null && child.exitCode === null) {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
    }
    rmSync(here, { recursive: true, force: true });
  };
}
