// The one place that turns the Xen model and its invariants into an engine Model: which function
// table a run checks (a version, a mutant of the catalogue, or a user's variant), the wiring of the
// invariants (a faulted state is judged by no-hypervisor-fault alone), and how a worker thread
// rebuilds the same model.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fingerprint, FingerprintSet, type Model, type ModelSpec } from './engine/index.js';
import {
  canonicalEncode,
  EncodedStepper,
  ConfigError,
  domainPermutations,
  findMutant,
  makeUniverse,
  makeXenModel,
  mutantTable,
  MUTANTS,
  defaultOps,
  formatRc,
  independent,
  statesEqual,
  VERSION_TABLES,
  userProperties,
  variantTable,
  VariantError,
  type Action,
  type LoadedVariantTable,
  type Rc,
  type State,
  type Universe,
  type UserInvariant,
  type UserWitness,
  type XenFunctions,
  type XenModel,
} from '../model/index.js';
import { callBefore, FAULT_INVARIANT, INVARIANTS, WITNESSES, type Invariant, type PropertyContext, type Witness } from '../invariants/index.js';
import { compiledModule } from './paths.js';

export interface Wired {
  xm: XenModel;
  model: Model<State, Action, Rc>;
  invariants: readonly Invariant[];
  witnesses: readonly Witness[];
  pc: PropertyContext;
  /** Whether the engine identifies symmetric states: its paths then apply to representatives. */
  symmetric: boolean;
}

export interface WireOptions {
  /** Invariants to check (default: all). */
  invariants?: readonly Invariant[];
  /** Witnesses to look for (default: the model's). */
  witnesses?: readonly Witness[];
  /** Counters of the run's own code (a variant's override calls) the engine reports with its result. */
  tallies?: () => Record<string, number>;
  /**
   * Count what the exploration exercised (`explore --coverage`): per operation and return code the
   * transitions, self-loops and distinct successors; per Xen function of the table, its calls.
   */
  coverage?: boolean;
  /** Use immer's produce for every step instead of the plain-copy fast path. */
  immer?: boolean;
  xen?: XenFunctions;
  /** Give the engine a canonical encoding over interchangeable domains (symmetry reduction). */
  symmetry?: boolean;
  /**
   * Give the engine the encoded stepper (model/encoded.ts) for its hot path. Default: only for the
   * built-in tables (no `xen` given); a caller that wires a table of its own says whether it is one
   * of ours (a version or a mutant: test/encoded.test.ts runs both routes on each). A user's variant
   * never is: its code may treat a state in ways the views do not follow (spreading a frame copies
   * no field of a view), so it runs on plain objects. Never with `immer` or `coverage` (which counts
   * transitions in `step`, a function the stepper does not call), nor with `steps` granularity (the
   * views know nothing of the vCPUs, locks and TLBs a steps state adds).
   */
  encoded?: boolean;
}

/**
 * A faulted state is judged by no-hypervisor-fault alone, and a faulted call is not a failed call
 * (MODEL.md §7): every other property skips faulted states and transitions into them.
 */
export function wire(u: Universe, o: WireOptions = {}): Wired {
  const counts: Record<string, number> = {};
  const xm = makeXenModel(u, o.coverage ? countingTable(o.xen ?? VERSION_TABLES[u.version], counts) : o.xen);
  const pc: PropertyContext = { u, xen: xm.ctx.xen };
  const invariants = o.invariants ?? INVARIANTS;
  const witnesses = o.witnesses ?? WITNESSES;
  const scratch = xm.init();
  const perms = domainPermutations(u);
  const permScratch = new Uint8Array(xm.encodedSize);
  // one result object, refilled each step: the engine reads it before the next step
  const out: { next: State; result: Rc } = { next: scratch, result: null };
  const model: Model<State, Action, Rc> = {
    init: () => [xm.init()],
    actions: (s) => xm.enabled(s),
    step: o.immer
      ? (s, a) => { const r = xm.apply(s, a); return { next: r.next, result: r.rc }; }
      : o.coverage
        ? transitionCounter(xm, counts, (s, a) => {
            out.result = xm.applyInto(scratch, s, a);
            return out;
          })
        : (s, a) => {
            out.result = xm.applyInto(scratch, s, a);
            return out;
          },
    encodedSize: xm.encodedSize,
    encode: (s, out) => void xm.encode(s, out),
    decode: (b) => xm.decode(b),
    encodedStepper: o.immer || o.coverage || u.granularity === 'steps' || !(o.encoded ?? o.xen === undefined) ? undefined : () => new EncodedStepper(xm.ctx, xm.actions),
    canonicalEncode: (s, out) => void canonicalEncode(s, perms, out, permScratch),
    reduction: reductionOf(xm, invariants, witnesses, o.coverage === true),
    tallies: o.coverage ? () => ({ ...o.tallies?.(), ...counts }) : o.tallies,
    invariants: invariants.map((inv) => {
      const judgesFaults = inv.name === FAULT_INVARIANT;
      const check = inv.check;
      const checkTransition = inv.checkTransition;
      const skipsSelfLoops = inv.holdsOnSelfLoops === true;
      return {
        name: inv.name,
        state: check ? (s: State) => (s.fault !== null && !judgesFaults ? null : check(s, pc)) : undefined,
        transition: checkTransition
          ? (pre: State, a: Action, rc: Rc, post: State, unchanged: boolean) => {
              if (post.fault !== null && !judgesFaults) return null;
              const before = callBefore(pre, a, rc, post, pc);
              if (before === null) return null; // a call in flight: judged when it returns
              if (skipsSelfLoops && before === pre && unchanged) return null;
              return checkTransition(before, a, rc, post, pc);
            }
          : undefined,
      };
    }),
    witnesses: witnesses.map((w) => {
      const holds = w.holds;
      const holdsTransition = w.holdsTransition;
      return {
        name: w.name,
        state: holds ? (s: State) => s.fault === null && holds(s, pc) : undefined,
        transition: holdsTransition
          ? (pre: State, a: Action, rc: Rc, post: State) => {
              if (post.fault !== null) return false;
              const before = callBefore(pre, a, rc, post, pc);
              return before !== null && holdsTransition(before, a, rc, post, pc);
            }
          : undefined,
      };
    }),
  };
  return { xm, model, invariants, witnesses, pc, symmetric: o.symmetry === true };
}

/**
 * What partial-order reduction may use, or undefined. With `steps` granularity the model records what
 * each segment reads and writes. Sleep sets move where a transition is taken (to an earlier state of
 * an equivalent path), so a transition property must judge it the same there: the built-in ones read
 * only the call's own cells and the changes it made (failed-call-has-no-effect, m2p-consistent's
 * transition part, foreign-removed-by-remove-from-physmap). A user's transition property may read
 * anything, and --coverage counts every transition: neither is reduced.
 */
function reductionOf(xm: XenModel, invariants: readonly Invariant[], witnesses: readonly Witness[], coverage: boolean): Model<State, Action, Rc>['reduction'] {
  const il = xm.interleaving;
  if (il === undefined || coverage) return undefined;
  const builtinInv = new Set<Invariant>(INVARIANTS);
  const builtinWit = new Set<Witness>(WITNESSES);
  if (invariants.some((i) => i.checkTransition !== undefined && !builtinInv.has(i))) return undefined;
  if (witnesses.some((w) => w.holdsTransition !== undefined && !builtinWit.has(w))) return undefined;
  return { transitions: il.transitions, transitionId: il.transitionId, footprint: il.footprint, footprintWords: il.footprint().length, independent };
}

/** The table with every function counting its calls into `counts` (`call:NAME`). */
function countingTable(xen: XenFunctions, counts: Record<string, number>): XenFunctions {
  const out: Record<string, unknown> = { ...xen };
  for (const [name, fn] of Object.entries(xen)) {
    if (typeof fn !== 'function') continue;
    const key = `call:${name}`;
    counts[key] = 0;
    out[name] = Object.assign((...args: unknown[]) => {
      counts[key]! += 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    }, { implementation: (fn as { implementation?: string }).implementation ?? fn.name });
  }
  return out as unknown as XenFunctions;
}

/**
 * A step that tallies its transition by operation and return code (`tr:`), whether it was a
 * self-loop (`self:`), and how many distinct successors each class reached (`new:`).
 */
function transitionCounter(xm: XenModel, counts: Record<string, number>, step: (s: State, a: Action) => { next: State; result: Rc }) {
  const seen = new Map<string, FingerprintSet>();
  const buf = new Uint8Array(xm.encodedSize);
  const fp = new Uint32Array(2);
  return (s: State, a: Action) => {
    const r = step(s, a);
    const key = `${a.op}|${formatRc(r.result)}`;
    counts[`tr:${key}`] = (counts[`tr:${key}`] ?? 0) + 1;
    if (statesEqual(s, r.next)) {
      counts[`self:${key}`] = (counts[`self:${key}`] ?? 0) + 1;
    } else {
      let set = seen.get(key);
      if (set === undefined) seen.set(key, (set = new FingerprintSet(1 << 10)));
      xm.encode(r.next, buf);
      fingerprint(buf, buf.length, fp);
      if (set.add(fp[0]!, fp[1]!)) counts[`new:${key}`] = (counts[`new:${key}`] ?? 0) + 1;
    }
    return r;
  };
}

/** The universe as the command line gives it (strings or numbers). */
export interface UniverseFlags {
  version?: string;
  backend?: string;
  domains?: string;
  gfns?: string | number;
  spareFrames?: string | number;
  ops?: string;
  destroyableDom0?: boolean;
  preemptibleTeardown?: boolean;
  build?: string;
  superpages?: boolean;
  granularity?: string;
  vcpus?: string | number;
}

/** What a run checks: a universe, and a version, a mutant or a variant file; properties of the user's. */
export interface TargetFlags extends UniverseFlags {
  mutant?: string;
  variant?: string;
  /** A module of invariants and witnesses of the user's (--properties FILE). */
  properties?: string;
  /**
   * The universe exactly as given, whatever a variant requires (a trace's universe: its action
   * indices depend on it).
   */
  exactUniverse?: boolean;
}

export interface Target {
  u: Universe;
  xen: XenFunctions | undefined;
  /** What is checked, when not a plain version: "mutant NAME of BASE", "variant NAME of BASE". */
  label: string | null;
  mutant?: string;
  /** The variant file's absolute path. */
  variant?: string;
  /** What a trace records of the variant: its name and the hash of its file (never its path). */
  variantRecord?: VariantRecord;
  /** Invariants and witnesses the variant or a --properties file adds to the built-in ones. */
  properties: { invariants: Invariant[]; witnesses: Witness[] };
  /** A variant's overrides, and how many times each ran in this thread so far. */
  overrides?: { names: string[]; calls: () => Record<string, number> };
  /** What the universe was given for the variant's sake (its `requires`), for the report. */
  required?: string[];
}

/** A variant as a trace records it: enough to recognise the file, nothing to load. */
export interface VariantRecord {
  name: string;
  /** SHA-256 of the variant file's bytes, hex. */
  sha256: string;
}

export function universeFromFlags(f: UniverseFlags): Universe {
  return makeUniverse({
    version: f.version,
    backend: f.backend,
    domains: f.domains,
    gfns: f.gfns,
    spareFrames: f.spareFrames,
    ops: f.ops,
    hardwareDomainDestroyable: f.destroyableDom0 ?? false,
    preemptibleTeardown: f.preemptibleTeardown ?? false,
    build: f.build,
    superpages: f.superpages ?? false,
    granularity: f.granularity,
    vcpus: f.vcpus,
  });
}

/** The universe and function table of a run: a version, a mutant of the catalogue, or a user's variant. */
export async function resolveTarget(f: TargetFlags): Promise<Target> {
  const t = await resolveCode(f);
  if (f.properties !== undefined) {
    const more = await loadProperties(f.properties);
    t.properties = { invariants: [...t.properties.invariants, ...more.invariants], witnesses: [...t.properties.witnesses, ...more.witnesses] };
  }
  const names = [...INVARIANTS, ...WITNESSES].map((p) => p.name);
  const seen = new Set<string>();
  for (const p of [...t.properties.invariants, ...t.properties.witnesses]) {
    if (names.includes(p.name) || seen.has(p.name)) throw new ConfigError(`property "${p.name}" is defined twice (a built-in property or another of yours has that name)`);
    seen.add(p.name);
  }
  return t;
}

async function resolveCode(f: TargetFlags): Promise<Target> {
  const none = { invariants: [] as Invariant[], witnesses: [] as Witness[] };
  if (f.mutant !== undefined && f.variant !== undefined) throw new ConfigError('--mutant and --variant cannot be combined');
  if (f.variant !== undefined) {
    const loaded = await loadVariant(f.variant, f.version);
    const { variant, xen, sha256, requires } = loaded;
    const required: string[] = [];
    const want = <K extends keyof UniverseFlags>(k: K, v: UniverseFlags[K] | undefined, flag: string) => {
      if (v === undefined || f.exactUniverse) return f[k];
      if (f[k] !== undefined && f[k] !== v) throw new ConfigError(`--variant ${variant.name} requires ${flag} ${String(v)}, not ${String(f[k])}`);
      if (f[k] === undefined) required.push(`${flag}${v === true ? '' : ` ${String(v)}`}`);
      return v;
    };
    let ops = f.ops;
    if (requires.ops !== undefined && requires.ops.length > 0 && !f.exactUniverse) {
      const given = (ops ?? defaultOps(want('preemptibleTeardown', requires.preemptibleTeardown, '--preemptible-teardown') ?? false).join(',')).split(',').map((x) => x.trim());
      const missing = requires.ops.filter((op: string) => !given.includes(op));
      if (missing.length > 0) {
        ops = [...given, ...missing].join(',');
        required.push(`--ops with ${missing.join(', ')}`);
      }
    }
    const u = universeFromFlags({
      ...f,
      version: loaded.version,
      ops,
      backend: want('backend', requires.backend, '--backend'),
      domains: want('domains', requires.domains, '--domains'),
      preemptibleTeardown: want('preemptibleTeardown', requires.preemptibleTeardown, '--preemptible-teardown'),
      superpages: want('superpages', requires.superpages, '--superpages'),
      build: want('build', requires.build, '--build'),
    });
    return {
      u,
      xen,
      label: `variant ${variant.name} of ${loaded.version} (${f.variant})`,
      variant: resolve(f.variant),
      variantRecord: { name: variant.name, sha256 },
      properties: variantProperties(loaded),
      overrides: { names: Object.keys(loaded.calls()), calls: loaded.calls },
      required,
    };
  }
  if (f.mutant === undefined) return { u: universeFromFlags(f), xen: undefined, label: null, properties: none };
  const m = findMutant(f.mutant);
  if (!m) throw new ConfigError(`--mutant: unknown mutant "${f.mutant}"; known: ${MUTANTS.map((x) => x.name).join(', ')}`);
  if (f.version !== undefined && f.version !== m.base) {
    throw new ConfigError(`--mutant ${m.name} applies to version ${m.base}, not ${f.version}`);
  }
  // A mutant of one backend's code, run on the other backend, would be the plain model under the
  // mutant's name: a clean verdict that says nothing.
  const needs = m.universe?.backend;
  if (needs !== undefined && f.backend !== undefined && f.backend !== needs) {
    throw new ConfigError(`--mutant ${m.name} changes ${needs} code and does not apply to --backend ${f.backend} (drop --backend, or use --backend ${needs})`);
  }
  const mu = m.universe ?? {};
  const u = universeFromFlags({
    ...f,
    version: m.base,
    backend: f.backend ?? mu.backend,
    domains: f.domains ?? (typeof mu.domains === 'string' ? mu.domains : undefined),
    ops: f.ops ?? (Array.isArray(mu.ops) ? mu.ops.join(',') : mu.ops),
    preemptibleTeardown: f.preemptibleTeardown ?? mu.preemptibleTeardown,
    destroyableDom0: f.destroyableDom0 ?? mu.hardwareDomainDestroyable,
    build: f.build ?? mu.build,
    superpages: f.superpages ?? mu.superpages,
    granularity: f.granularity ?? mu.granularity,
    vcpus: f.vcpus ?? (f.granularity === 'atomic' ? undefined : mu.vcpus),
    gfns: f.gfns ?? mu.gfns,
    spareFrames: f.spareFrames ?? mu.spareFrames,
  });
  return { u, xen: mutantTable(m), label: `mutant ${m.name} of ${m.base}`, mutant: m.name, properties: none };
}

/** A loaded variant's own properties, as the explorer judges them. */
export function variantProperties(loaded: Pick<LoadedVariantTable, 'properties'>): Target['properties'] {
  return { invariants: loaded.properties.invariants.map(asInvariant), witnesses: loaded.properties.witnesses.map(asWitness) };
}

/** A variant's invariant as the explorer judges it (a faulted state by no-hypervisor-fault alone, as every other). */
function asInvariant(i: UserInvariant): Invariant {
  return { kind: 'invariant', name: i.name, description: i.description ?? 'an invariant of the user\'s', check: i.check?.bind(i), checkTransition: i.checkTransition?.bind(i) };
}

function asWitness(w: UserWitness): Witness {
  return { kind: 'witness', name: w.name, description: w.description ?? 'a witness of the user\'s', holds: w.holds?.bind(w), holdsTransition: w.holdsTransition?.bind(w) };
}

/** Loads a --properties file: a module whose default export is { invariants, witnesses }. */
export async function loadProperties(file: string): Promise<{ invariants: Invariant[]; witnesses: Witness[] }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new VariantError(`--properties: ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(path);
  } catch (e) {
    throw new VariantError(`--properties: ${file} does not load: ${loadErrorLine(e, path)}`);
  }
  let v = mod.default;
  if (v && typeof v === 'object' && 'default' in (v as object) && !('invariants' in (v as object)) && !('witnesses' in (v as object))) v = (v as { default: unknown }).default;
  if (typeof v !== 'object' || v === null) throw new VariantError(`--properties: ${file} has no default export { invariants, witnesses }`);
  const p = userProperties(v as Record<string, unknown>, `--properties: ${file}`);
  return { invariants: p.invariants.map(asInvariant), witnesses: p.witnesses.map(asWitness) };
}

/**
 * The one line of a module that does not load: esbuild's "file:line:col: ERROR: reason" for a syntax
 * error (its message starts "Transform failed with 1 error:"), else the error's first line.
 */
export function loadErrorLine(e: unknown, path: string): string {
  const msg = String((e as Error)?.message ?? e);
  const lines = msg.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const located = lines.find((l) => /:\d+:\d+: (ERROR|error)/.test(l));
  if (located) {
    const m = /^(.*?):(\d+):(\d+): (?:ERROR|error): (.*)$/.exec(located);
    if (m) {
      const rel = relative(process.cwd(), m[1]!.startsWith('/') ? m[1]! : path);
      return `${rel || m[1]}:${m[2]}:${m[3]}: ${m[4]}`;
    }
    return located;
  }
  return lines[0] ?? 'unknown error';
}

/** Loads a --variant file: TypeScript (or JavaScript) compiled at run time by tsx. */
export async function loadVariant(file: string, version?: string): Promise<LoadedVariantTable & { sha256: string }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new VariantError(`--variant: ${file} does not exist`);
  let sha256: string;
  try {
    sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (e) {
    throw new VariantError(`--variant: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(path);
  } catch (e) {
    throw new VariantError(`--variant: ${file} does not load: ${loadErrorLine(e, path)}`);
  }
  let v = mod.default ?? mod.variant;
  // A CommonJS-style double default (tsx may wrap `export default` of a .ts file once more).
  if (v && typeof v === 'object' && 'default' in (v as object) && !('base' in (v as object))) v = (v as { default: unknown }).default;
  // (a module without a default export may still come back as its namespace, wrapped by the loader)
  const looksLikeVariant = typeof v === 'object' && v !== null && ['name', 'base', 'overrides'].some((k) => k in (v as object));
  if (!looksLikeVariant) throw new VariantError(`--variant: ${file} has no default export (export default { name, base, overrides })`);
  try {
    return { ...variantTable(v, `--variant: ${file}`, version), sha256 };
  } catch (e) {
    if (e instanceof VariantError) throw e;
    // the variant's own overrides function threw: the user's error, with the line when the stack has it
    const err = e instanceof Error ? e : new Error(String(e));
    const at = (err.stack ?? '').split('\n').find((l) => l.includes(path))?.trim().replace(/^at /, '');
    throw new VariantError(`--variant: ${file}: its overrides threw ${err.name}: ${err.message.split('\n')[0]}${at ? ` (${at})` : ''}`);
  }
}

/**
 * Whether Node takes a file for an ES module: .mts/.mjs, or .ts/.js under a package.json that says
 * "type": "module" (the rule tsx follows too).
 */
function isEsm(path: string): boolean {
  if (/\.m[tj]s$/.test(path)) return true;
  if (/\.c[tj]s$/.test(path)) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readFileSync(pj, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

/**
 * Loads a user's TypeScript (or JavaScript) module, compiled at run time by tsx, so that an exception
 * thrown in it has a stack naming the user's own file and line: source maps on, and a CommonJS-style
 * file through tsx's require (its ESM import would run it from a data: URL, without lines).
 */
async function importUserModule(path: string): Promise<Record<string, unknown>> {
  process.setSourceMapsEnabled(true);
  if (isEsm(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  const { require: tsxRequire } = await import('tsx/cjs/api');
  return tsxRequire(path, import.meta.url) as Record<string, unknown>;
}

/** Everything a worker needs to build the run's model again: the target and the run's choices. */
export interface SpecArgs {
  target: TargetFlags;
  /** Invariant names (default: all). */
  invariants?: string[];
  symmetry?: boolean;
  coverage?: boolean;
}

/** The factory a worker calls (exported by name, see ModelSpec). */
export async function modelFromSpec(args: SpecArgs): Promise<Model<State, Action, Rc>> {
  const target = await resolveTarget(args.target);
  return wireTarget(target, args.invariants, args.symmetry === true, { coverage: args.coverage === true }).model;
}

/** Every invariant a target can check: the built-in ones, then its own. */
export function targetInvariants(t: Target): Invariant[] {
  return [...INVARIANTS, ...t.properties.invariants];
}

/** A target wired with the invariants named (default: all of its), its witnesses and its counters. */
export function wireTarget(t: Target, invariantNames?: readonly string[], symmetry = false, o: Pick<WireOptions, 'immer' | 'coverage'> = {}): Wired {
  const all = targetInvariants(t);
  const invariants = invariantNames === undefined ? all : all.filter((i) => invariantNames.includes(i.name));
  // A user's code (a variant's functions, a --properties module) may spread, copy or serialise a
  // state, which sees nothing of an encoded view's fields: it runs on plain states.
  const plain = t.variant !== undefined || t.properties.invariants.length > 0 || t.properties.witnesses.length > 0;
  return wire(t.u, { ...o, invariants, witnesses: [...WITNESSES, ...t.properties.witnesses], xen: t.xen, symmetry, tallies: t.overrides?.calls, encoded: !plain });
}

/** The spec of a run's model, pointing at the compiled modules (workers run JavaScript). */
export function specFor(args: SpecArgs): ModelSpec {
  const worker = compiledModule('engine/worker.js');
  const module = compiledModule('xen-model.js');
  if (!existsSync(worker) || !existsSync(module)) throw new ConfigError('--workers needs the compiled checker (npm run build)');
  return { module: pathToFileURL(module).href, exportName: 'modelFromSpec', args: args satisfies SpecArgs, workerUrl: pathToFileURL(worker).href };
}
