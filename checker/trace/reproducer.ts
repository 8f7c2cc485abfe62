// `checker trace export --format c`: a counterexample as a C program for dom0 of a real Xen host.
// It creates the trace's universe itself (empty domains of the trace's kinds, paused, no vCPU running;
// their pages populated gfn by gfn; device models' targets set), issues each step's hypercall through
// libxenctrl, compares every answer and what dom0 sees of each domain with the model's predictions,
// checks the violation the way a person at the host would (a domain that stays a zombie, a teardown
// that fails, a failed call that changed something), cleans up on success, failure and SIGINT, and ends
// with one line: reproduced, not reproduced, or diverged at step N.
//
// The work is in reproducer-plan.ts (the host run, worked out on the model) and the fixed C of
// reproducer-runtime.ts; this file writes the tables between them. A library function, so that any
// front end (the CLI, checker serve's page) can offer the program.
import { basename } from 'node:path';
import { FAULTS, isBuiltinFault, type Rc, type Version } from '../../model/index.js';
import { TOOL } from '../paths.js';
import type { TraceFile } from './load.js';
import { hostGfnOffset, planReproducer, type HostCall, type Observation, type ReproducerKind, type ReproducerPlan } from './reproducer-plan.js';
import { C_INCLUDES, C_RUNTIME, C_TYPES } from './reproducer-runtime.js';

export type { ReproducerKind } from './reproducer-plan.js';

export interface ReproducerOptions {
  /** The host gfn the model's gfn 0 maps to, compiled in as the default of `--gfn-base` (0x10000 if not given). */
  gfnBase?: bigint | number;
}

export interface Reproducer {
  /** One self-contained C file. */
  source: string;
  /** How the program runs the calls: one after the other, one thread per vCPU in turn, or a retried race. */
  kind: ReproducerKind;
  /** What the user should know before running it (one sentence each). */
  notes: string[];
}

/** The default host gfn of the model's gfn 0: clear of low memory and 2 MiB aligned. */
export const DEFAULT_GFN_BASE = 0x10000n;

/** How many times a race is tried by default. */
const DEFAULT_ATTEMPTS = 200;

/** The command that builds a reproducer on a host (the libraries are Xen's own toolstack libraries). */
export function compileCommand(file: string, out = basename(file).replace(/\.c$/, '')): string {
  return `gcc -Wall -Wextra -Werror -O2 -o ${out} ${file} -lxenctrl -lpthread`;
}

/** Which released Xen each model version describes, for the program's version check (a warning). */
const HOSTS: Record<Version, { min: [number, number] | null; max: [number, number] | null; text: string }> = {
  seed: { min: null, max: null, text: 'the V6.2 patch on Xen 4.4-rc, never released' },
  'xen-4.5': { min: [4, 5], max: [4, 9], text: 'Xen 4.5 to 4.9: 50fe6e7370 is in 4.5.0, XSA-222 (a0cce6048d) changes guest_remove_page in 4.10' },
  'xen-4.19': {
    min: [4, 19],
    max: [4, 20],
    text: 'Xen 4.19 and 4.20: 845a60b63b is in 4.19.0; b04114ae2d and a8325f981c come in 4.21 (a8325f981c backported to 4.19.2 and 4.20.1)',
  },
  head: { min: [4, 22], max: null, text: 'master c447b7308b: ac607edc2e is in 4.22.0' },
};

/**
 * The C program reproducing a trace file's counterexample on a Xen host. Throws the user's one-line
 * error (TraceFormatError) for a trace no host can run: a mutant's, another tool's, one that
 * destroys dom0, one whose property fails in the initial state.
 */
export function reproducerC(trace: TraceFile, options: ReproducerOptions = {}): Reproducer {
  const plan = planReproducer(trace);
  const base = BigInt(options.gfnBase ?? DEFAULT_GFN_BASE);
  if (base < 0n || base >= 1n << 40n) throw new RangeError(`gfnBase: expected a gfn from 0 to 2^40, got ${base}`);
  return { source: renderC(trace, plan, base), kind: plan.kind, notes: plan.notes };
}

// ---- C text ----

/** A C string literal: escapes, `?` escaped against trigraphs, non-ASCII as octal UTF-8 bytes. */
export function cString(s: string | null): string {
  if (s === null) return 'NULL';
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\' || ch === '?') out += `\\${ch}`;
    else if (byte === 10) out += '\\n';
    else if (byte < 32 || byte > 126) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Text for a C comment: no comment terminator, ASCII kept as it is. */
function cComment(s: string): string {
  return s.replace(/\*\//g, '* /');
}

const OBS_LIFE = { alive: 'OBS_ALIVE', dying: 'OBS_DYING', gone: 'OBS_GONE' } as const;

function cObservation(o: Observation | null | undefined): string {
  if (o === null || o === undefined) return '{ OBS_NONE, 0 }';
  return `{ ${OBS_LIFE[o.life]}, ${o.pages === null ? 'PAGES_ANY' : o.pages} }`;
}

function cRc(rc: Rc, c: HostCall): string {
  if (c.op === 'none' || c.op === 'empty_pool') return 'RC_NOT_COMPARED';
  return rc === null ? 'RC_FAULT' : String(rc);
}

const OPS: Record<HostCall['op'], string> = {
  populate: 'OP_POPULATE',
  decrease: 'OP_DECREASE',
  add_foreign: 'OP_ADD_FOREIGN',
  remove: 'OP_REMOVE',
  destroy: 'OP_DESTROY',
  log_dirty: 'OP_LOG_DIRTY',
  empty_pool: 'OP_EMPTY_POOL',
  none: 'OP_NONE',
};

/** The program's name, from the trace file's (leak.itf.json → leak). */
function programName(file: string): string {
  return basename(file).replace(/\.itf\.json$|\.json$/, '') || 'reproducer';
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function renderC(tf: TraceFile, plan: ReproducerPlan, base: bigint): string {
  const { u, trace, calls, domains, predictions } = plan;
  const { meta, target } = tf;
  const hosts = HOSTS[u.version];
  const name = programName(tf.file);
  const variant = target.variantRecord ? `variant ${target.variantRecord.name} of ${u.version} (sha256 ${target.variantRecord.sha256}): for a host running the patch it models` : '';
  const hypothetical = meta.configuration.hypothetical;
  const steps = (c: HostCall) => (c.first === c.last ? `${c.first}` : c.last > trace.steps.length ? `${c.first}-${trace.steps.length}...` : `${c.first}-${c.last}`);
  const domText = (d: (typeof domains)[number]) =>
    `${d.name} (${d.hardware ? "the host's dom0" : d.kind.toUpperCase()}${d.target >= 0 ? `, device model of ${domains[d.target]!.name}` : ''})`;
  // room for every gfn of the universe (a superpage pair is 512 pages), and some
  const maxPages = (u.superpages ? (u.gfns / 2) * 512 : u.gfns) + 64;
  const trail = predictions[0]!;
  const fault = trace.states[trace.states.length - 1]!.fault;
  const lines: string[] = [];
  const header = [
    `Reproducer of ${basename(tf.file)}: ${meta.property} violated at depth ${meta.path.length}`,
    `(${u.version} on ${u.backend}${variant ? `, ${variant}` : ''}${hypothetical ? `; ${hypothetical}` : ''}).`,
    `Generated by ${TOOL} from ${basename(tf.file)} (replay token ${meta.path.join(',')}).`,
    '',
    `The model says: ${meta.message}`,
    fault && isBuiltinFault(fault.kind) ? `(${FAULTS[fault.kind].assertion} in a debug build; ${FAULTS[fault.kind].release})` : '',
    '',
    'The trace:',
    ...trace.steps.map((s) => `  ${s.index}. ${s.text} -> ${s.rcText}`),
    '',
    `Kind: ${plan.kind}: ${plan.kindWhy}.`,
    '',
    'Build it on the host (libxen-dev or Xen\'s own tools/ installed), and run it as root in dom0:',
    `  ${compileCommand(`${name}.c`, name)}`,
    `  ./${name} --help`,
    'What each outcome means: docs/reproducers.md of xen-foreign-checker.',
  ].filter((l, i, all) => l !== '' || all[i - 1] !== '');
  lines.push('/*', ...header.map((l) => cComment(` * ${l}`.trimEnd())), ' */', '', C_INCLUDES);
  const define = (k: string, v: string | number) => lines.push(`#define ${k} ${v}`);
  define('NDOMS', domains.length);
  define('NCALLS', calls.length);
  define('NCLASSES', predictions.length);
  define('NTHREADS', Math.max(...calls.map((c) => c.thread)) + 1);
  define('NPAGES', plan.pages.length);
  define('NRACE', plan.race.length);
  define('NGFNS', u.gfns);
  define('DEFAULT_GFN_BASE', `${hex(base)}UL`);
  define('DEFAULT_ATTEMPTS', `${DEFAULT_ATTEMPTS}UL`);
  define('SUPERPAGES', u.superpages ? 1 : 0);
  define('TOUCHES_DOM0', plan.touchesDom0 ? 1 : 0);
  define('TRACE_DEBUG', u.build === 'debug' ? 1 : 0);
  define('XEN_MIN_MAJOR', hosts.min?.[0] ?? 0);
  define('XEN_MIN_MINOR', hosts.min?.[1] ?? 0);
  define('XEN_MAX_MAJOR', hosts.max?.[0] ?? 0);
  define('XEN_MAX_MINOR', hosts.max?.[1] ?? 0);
  lines.push(C_TYPES);
  const str = (k: string, v: string | null) => lines.push(`static const char ${k}[] = ${cString(v ?? '')};`);
  str('PROGRAM_NAME', name);
  str('TRACE_FILE', basename(tf.file));
  str('PROPERTY', meta.property);
  str('MESSAGE', meta.message);
  str('GENERATOR', TOOL);
  str('XEN_MODEL', u.version);
  str('XEN_MODEL_NOTE', hypothetical ? ` (${hypothetical})` : '');
  str('XEN_HOSTS', hosts.text);
  str('BACKEND', u.backend);
  str('VARIANT', variant);
  str('KIND', `${plan.kind}: ${plan.kindWhy}`);
  str('UNOBSERVABLE', plan.unobservable);
  str('CLEANUP_FAULT', trail.cleanupFault);
  lines.push(`static const char *const NOTES[] = {\n${plan.notes.filter((n) => !n.startsWith('kind ')).map((n) => `    ${cString(n)},\n`).join('')}    NULL,\n};`);
  lines.push(
    `static const struct dom_spec DOMS[NDOMS] = {\n${domains.map((d) => `    { ${cString(d.name)}, ${cString(domText(d))}, ${d.hardware ? 1 : 0}, ${d.kind === 'hvm' ? 1 : 0}, ${d.target} },\n`).join('')}};`,
  );
  lines.push(`static const uint64_t MAXMEM_KB[NDOMS] = { ${domains.map(() => `${maxPages * 4}`).join(', ')} };`);
  lines.push(`static const unsigned long GFN_OFFSETS[NGFNS] = { ${Array.from({ length: u.gfns }, (_, g) => hex(hostGfnOffset(u, g))).join(', ')} };`);
  const pages = plan.pages.length ? plan.pages.map((p) => `    { ${p.d}, ${hex(hostGfnOffset(u, p.g))}, ${p.order} },\n`).join('') : '    { 0, 0, 0 },\n';
  lines.push(`static const struct page_spec PAGES[${Math.max(plan.pages.length, 1)}] = {\n${pages}};`);
  lines.push(
    `static const struct call_spec CALLS[NCALLS] = {\n${calls
      .map((c, i) => {
        const off = (g: number) => (g < 0 ? '0' : hex(hostGfnOffset(u, g)));
        return `    /* ${i} */\n    { ${OPS[c.op]}, ${c.d}, ${off(c.g)}, ${c.f}, ${off(c.gF)}, ${c.on ? 1 : 0}, ${c.thread}, ${plan.race.includes(i) ? 1 : 0}, ${c.first}, ${c.restorePool},\n      ${cString(steps(c))}, ${cString(c.text)},\n      ${cString(c.why)} },\n`;
      })
      .join('')}};`,
  );
  lines.push(`static const int RACE[${Math.max(plan.race.length, 1)}] = { ${plan.race.length ? plan.race.join(', ') : '0'} };`);
  lines.push(
    `static const struct class_spec CLASSES[NCLASSES] = {\n${predictions
      .map(
        (p) =>
          `    {\n        ${cString(p.name)},\n        { ${p.rcs.map((rc, i) => cRc(rc, calls[i]!)).join(', ')} },\n        {\n${p.after
            .map((a) => `            { ${domains.map((d) => cObservation(a?.[d.index])).join(', ')} },\n`)
            .join('')}        },\n        ${p.end === null ? 0 : 1},\n        { ${domains.map((d) => cObservation(p.end?.[d.index])).join(', ')} },\n        ${cString(p.signature)},\n        ${p.alike.length ? cString(p.alike.join('; ')) : 'NULL'},\n        { ${p.faults.map((f) => cString(f)).join(', ')} },\n    },\n`,
      )
      .join('')}};`,
  );
  lines.push(C_RUNTIME);
  return lines.join('\n');
}
