// Reproducers (checker trace export --format c) compiled with gcc, against the real libxenctrl and
// against the stand-in of test/standin/ (a fake Xen host that answers as the model says), and run.
//
// What the program must issue is derived here from the trace's own actions, not from the
// reproducer's tables: an argument the generator got wrong shows up as a line that differs.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { domainName, type Action, type Universe } from '../model/index.js';
import type { ReproducerPlan } from '../checker/trace/reproducer-plan.js';
import { ROOT } from './cli-run.js';

export const STANDIN = join(ROOT, 'test', 'standin', 'libxenctrl-standin.c');
export const GCC_FLAGS = ['-Wall', '-Wextra', '-Werror', '-O2'];
/** The gfn base the reproducers are exported with by default. */
export const BASE = 0x10000;

function gcc(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    execFile('gcc', args, { encoding: 'utf8' }, (error, _stdout, stderr) => (error ? fail(new Error(`gcc ${args.join(' ')}:\n${stderr}`)) : done()));
  });
}

/** Builds a reproducer against the real libxenctrl (Debian's libxen-dev), as a host would. */
export function compileReal(src: string, out: string): Promise<void> {
  return gcc([...GCC_FLAGS, '-o', out, src, '-lxenctrl', '-lpthread']);
}

/** Builds a reproducer with the stand-in in place of libxenctrl (link-time: the stand-in defines its symbols). */
export function compileStandin(src: string, out: string): Promise<void> {
  return gcc([...GCC_FLAGS, '-o', out, src, STANDIN, '-lpthread']);
}

/** What a test host needs: gcc and Xen's headers and library (CI installs them; a missing one fails, it does not skip). */
export function toolchainProblem(): string | null {
  if (!existsSync('/usr/include/xenctrl.h')) return 'no /usr/include/xenctrl.h: install libxen-dev (Debian), as .ci/run does';
  return null;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The host gfn of model gfn g, as docs/reproducers.md says: base + g, a superpage pair spanning 512. */
function hostGfn(u: Universe, g: number, base: number): string {
  return hex(base + (u.superpages ? (g >> 1) * 512 + (g & 1) : g));
}

/** The stand-in's log line for the host call of a model action (a teardown step is a destroy). */
export function expectedLine(u: Universe, a: Action, base = BASE): string {
  const n = (d: number) => domainName(u, d);
  switch (a.op) {
    case 'populate_physmap':
      return `populate ${n(a.d)} ${hostGfn(u, a.g, base)} 0 x1`;
    case 'decrease_reservation':
      return `decrease ${n(a.d)} ${hostGfn(u, a.g, base)} 0 x1`;
    case 'add_to_physmap_foreign':
      return `add_foreign ${n(a.t)} ${n(a.f)} ${hostGfn(u, a.gF, base)} ${hostGfn(u, a.gT, base)} x1`;
    case 'remove_from_physmap':
      return `remove ${n(a.d)} ${hostGfn(u, a.g, base)}`;
    case 'destroy':
    case 'kill_begin':
    case 'relinquish_step':
      return `destroy ${n(a.d)}`;
    case 'set_log_dirty':
      return `log_dirty ${n(a.d)} ${a.on ? 'on' : 'off'}`;
    case 'fail_next_alloc':
      return 'mempool';
  }
}

/** The host calls the program must make for the trace's steps, in the trace's order: [line, call index]. */
export function expectedCalls(plan: ReproducerPlan, base = BASE): { line: string; call: number }[] {
  return plan.calls
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.op !== 'none')
    .map(({ c, i }) => {
      const line = expectedLine(plan.u, plan.trace.steps[c.first - 1]!.action, base);
      return { line: line === 'mempool' ? `mempool ${domainName(plan.u, c.d)} 0` : line, call: i };
    });
}

export interface ScriptOptions {
  /** The host's build, as its console banner says. */
  debug?: boolean;
  /** Answer this call (an index into plan.calls) otherwise than the model. */
  differ?: number;
  /** A fixed host: the cleanup leaves nothing (no zombie, no stuck teardown). */
  fixed?: boolean;
  /** Raise SIGINT while answering the n-th step call (the steps after it are left out: the cleanup's destroy must not be taken for one). */
  sigintAt?: number;
}

const LIFE = (o: { life: string; pages: number | null }) => `${o.life}:${o.pages ?? 0}`;

/** The stand-in's script: a host that answers each call of the trace as the model's prediction of it. */
export function standinScript(plan: ReproducerPlan, o: ScriptOptions = {}): string {
  const trail = plan.predictions[0]!;
  const created = plan.domains.filter((d) => !d.hardware);
  const lines = [
    'version 4 19 .1',
    `console (XEN) Xen version 4.19.1 (stand-in) (gcc) debug=${o.debug ? 'y' : 'n'} Mon Jan 1`,
    'physinfo hvm hap shadow',
    `dom0 ${plan.touchesDom0 ? 'pvh' : 'pv'} 0x8000`,
    `domains ${created.map((d) => d.name).join(' ')}`,
  ];
  for (const [n, { line, call }] of expectedCalls(plan).entries()) {
    if (line.startsWith('mempool') || (o.sigintAt !== undefined && n >= o.sigintAt)) continue;
    const rc = trail.rcs[call]!;
    const fault = rc === null || (o.debug === true && trail.faults[call] !== null);
    const answer = fault ? 'FAULT' : call === o.differ ? (rc === 0 ? -1 : 0) : rc;
    const after = trail.after[call];
    const obs = after ? ` | ${created.map((d) => `${d.name}:${LIFE(after[d.index]!)}`).join(' ')}` : '';
    lines.push(`step ${line} = ${answer}${obs}`);
  }
  if (!o.fixed) for (const d of created) if (trail.end && trail.end[d.index]!.life === 'dying') lines.push(`zombie ${d.name} ${trail.end[d.index]!.pages ?? 0}`);
  if (o.sigintAt !== undefined) lines.push(`sigint-at ${o.sigintAt}`);
  return lines.join('\n') + '\n';
}

export interface StandinRun {
  status: number | null;
  stdout: string;
  /** The stand-in's log: one line per call that changes the host. */
  log: string[];
  /** The program's last line. */
  last: string;
}

/** Runs a reproducer built with the stand-in, with `script`, in `dir`. */
export function runStandin(bin: string, dir: string, script: string, args: string[] = []): Promise<StandinRun> {
  const scriptFile = join(dir, `script-${Math.random().toString(36).slice(2)}.txt`);
  const logFile = `${scriptFile}.log`;
  writeFileSync(scriptFile, script);
  writeFileSync(logFile, '');
  return new Promise((done) => {
    execFile(
      bin,
      ['--settle-ms', '60', '--attempts', '1', '--jitter-us', '0', ...args],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, XENCTRL_STANDIN_SCRIPT: scriptFile, XENCTRL_STANDIN_LOG: logFile } },
      (error, stdout) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const lines = stdout.trimEnd().split('\n');
        done({ status, stdout, log: readFileSync(logFile, 'utf8').trimEnd().split('\n').filter((l) => l !== ''), last: lines[lines.length - 1]! });
      },
    );
  });
}

/** The calls among the log's lines that are the trace's own (not setup, not the cleanup's). */
function stepLines(plan: ReproducerPlan, log: string[]): string[] {
  const wanted = new Set(expectedCalls(plan).map((c) => c.line));
  const out: string[] = [];
  let cleanup = false;
  for (const l of log) {
    if (l.startsWith('(the hypervisor')) break;
    if (cleanup) continue;
    if (wanted.has(l) || l.startsWith('mempool') && l.endsWith(' 0')) out.push(l);
    if (out.length === expectedCalls(plan).length) cleanup = true;
  }
  return out;
}

/** The program issued the trace's calls with the right arguments: in order, or (racing calls) in some order between their neighbours. */
export function expectCallsInOrder(plan: ReproducerPlan, log: string[]): void {
  const want = expectedCalls(plan);
  const got = stepLines(plan, log);
  expect(got.length, `the calls issued:\n${log.join('\n')}`).toBe(want.length);
  const race = new Set(plan.race);
  want.forEach((w, i) => {
    if (!race.has(w.call)) expect(got[i], `call ${i}`).toBe(w.line);
  });
  const raced = want.filter((w) => race.has(w.call)).map((w) => w.line).sort();
  const at = want.findIndex((w) => race.has(w.call));
  if (at >= 0) expect(got.slice(at, at + raced.length).sort()).toEqual(raced);
}

/** Every domain the program created was destroyed after it (whatever happened in between). */
export function expectCleanedUp(log: string[]): void {
  const created = log.filter((l) => l.startsWith('create ')).map((l) => l.split(' ')[1]!);
  expect(created.length).toBeGreaterThan(0);
  const lastCreate = log.map((l) => l.startsWith('create ')).lastIndexOf(true);
  const destroyed = new Set(log.slice(lastCreate + 1).filter((l) => l.startsWith('destroy ')).map((l) => l.split(' ')[1]));
  for (const d of new Set(created)) expect(destroyed.has(d), `${d} destroyed after its creation:\n${log.join('\n')}`).toBe(true);
}

/**
 * What a faithful host makes the program say: the model's own verdict for this trace. A host the
 * model says goes down takes the program with it (the stand-in exits 99), after the program's warning.
 */
export function expectOutcome(plan: ReproducerPlan, r: StandinRun, debug = false): void {
  const trail = plan.predictions[0]!;
  const issued = plan.calls.map((c, i) => ({ c, i })).filter(({ c }) => c.op !== 'none' && c.op !== 'empty_pool');
  const context = `${r.stdout}\n--- log:\n${r.log.join('\n')}`;
  if (issued.some(({ i }) => trail.rcs[i] === null || (debug && trail.faults[i] !== null))) {
    expect(r.status, context).toBe(99);
    expect(r.stdout, context).toMatch(/^warning: step .*(every build|panics there)/m);
  } else if (trail.signature !== null) {
    expect(r.status, context).toBe(12);
    expect(r.last, context).toMatch(/^reproduced: /);
  } else {
    expect(r.status, context).toBe(0);
    expect(r.last, context).toMatch(/^not reproduced: /);
  }
}
