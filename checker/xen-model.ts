// The one place that turns the Xen model and its invariants into an engine Model: which function
// table a run checks (a version, a mutant of the catalogue, or a user's variant), the wiring of the
// invariants (a faulted state is judged by no-hypervisor-fault alone), and how a worker thread
// rebuilds the same model.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Model, ModelSpec } from './engine/index.js';
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
  variantTable,
  VariantError,
  type Action,
  type Rc,
  type State,
  type Universe,
  type Variant,
  type XenFunctions,
  type XenModel,
} from '../model/index.js';
import { FAULT_INVARIANT, INVARIANTS, WITNESSES, type Invariant, type PropertyContext, type Witness } from '../invariants/index.js';
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
  /** Use immer's produce for every step instead of the plain-copy fast path. */
  immer?: boolean;
  xen?: XenFunctions;
  /** Give the engine a canonical encoding over interchangeable domains (symmetry reduction). */
  symmetry?: boolean;
  /**
   * Give the engine the encoded stepper (model/encoded.ts) for its hot path (default: yes, unless
   * `immer`). Every caller that may wire a user's variant says false: a variant's code may treat a
   * state in ways the views do not follow (spreading a frame copies no field of a view), so it runs
   * on plain objects.
   */
  encoded?: boolean;
}

/**
 * A faulted state is judged by no-hypervisor-fault alone, and a faulted call is not a failed call
 * (MODEL.md §7): every other property skips faulted states and transitions into them.
 */
export function wire(u: Universe, o: WireOptions = {}): Wired {
  const xm = makeXenModel(u, o.xen);
  const pc: PropertyContext = { u, xen: xm.ctx.xen };
  const invariants = o.invariants ?? INVARIANTS;
  const witnesses = WITNESSES;
  const none: readonly Action[] = [];
  const scratch = xm.init();
  const perms = domainPermutations(u);
  const permScratch = new Uint8Array(xm.encodedSize);
  // one result object, refilled each step: the engine reads it before the next step
  const out: { next: State; result: Rc } = { next: scratch, result: null };
  const model: Model<State, Action, Rc> = {
    init: () => [xm.init()],
    actions: (s) => (s.fault === null ? xm.actions : none),
    step: o.immer
      ? (s, a) => { const r = xm.apply(s, a); return { next: r.next, result: r.rc }; }
      : (s, a) => {
          out.result = xm.applyInto(scratch, s, a);
          return out;
        },
    encodedSize: xm.encodedSize,
    encode: (s, out) => void xm.encode(s, out),
    decode: (b) => xm.decode(b),
    encodedStepper: o.immer || o.encoded === false ? undefined : () => new EncodedStepper(xm.ctx, xm.actions),
    canonicalEncode: (s, out) => void canonicalEncode(s, perms, out, permScratch),
    invariants: invariants.map((inv) => {
      const judgesFaults = inv.name === FAULT_INVARIANT;
      const check = inv.check;
      const checkTransition = inv.checkTransition;
      const skipsSelfLoops = inv.holdsOnSelfLoops === true;
      return {
        name: inv.name,
        state: check ? (s: State) => (s.fault !== null && !judgesFaults ? null : check(s, pc)) : undefined,
        transition: checkTransition
          ? (pre: State, a: Action, rc: Rc, post: State, unchanged: boolean) =>
              (unchanged && skipsSelfLoops) || (post.fault !== null && !judgesFaults) ? null : checkTransition(pre, a, rc, post, pc)
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
          ? (pre: State, a: Action, rc: Rc, post: State) => post.fault === null && holdsTransition(pre, a, rc, post, pc)
          : undefined,
      };
    }),
  };
  return { xm, model, invariants, witnesses, pc, symmetric: o.symmetry === true };
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
}

/** What a run checks: a universe, and a version, a mutant or a variant file. */
export interface TargetFlags extends UniverseFlags {
  mutant?: string;
  variant?: string;
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
  });
}

/** The universe and function table of a run: a version, a mutant of the catalogue, or a user's variant. */
export async function resolveTarget(f: TargetFlags): Promise<Target> {
  if (f.mutant !== undefined && f.variant !== undefined) throw new ConfigError('--mutant and --variant cannot be combined');
  if (f.variant !== undefined) {
    const { variant, xen, sha256 } = await loadVariant(f.variant);
    if (f.version !== undefined && f.version !== variant.base) {
      throw new ConfigError(`--variant ${variant.name} is based on ${variant.base}, not ${f.version}`);
    }
    const u = universeFromFlags({ ...f, version: variant.base });
    return {
      u,
      xen,
      label: `variant ${variant.name} of ${variant.base} (${f.variant})`,
      variant: resolve(f.variant),
      variantRecord: { name: variant.name, sha256 },
    };
  }
  if (f.mutant === undefined) return { u: universeFromFlags(f), xen: undefined, label: null };
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
  });
  return { u, xen: mutantTable(m), label: `mutant ${m.name} of ${m.base}`, mutant: m.name };
}

/** Loads a --variant file: TypeScript (or JavaScript) compiled at run time by tsx. */
export async function loadVariant(file: string): Promise<{ variant: Variant; xen: XenFunctions; sha256: string }> {
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
    const first = String((e as Error).message ?? e).split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
    throw new VariantError(`--variant: ${file} does not load: ${first.trim()}`);
  }
  let v = mod.default ?? mod.variant;
  // A CommonJS-style double default (tsx may wrap `export default` of a .ts file once more).
  if (v && typeof v === 'object' && 'default' in (v as object) && !('base' in (v as object))) v = (v as { default: unknown }).default;
  // (a module without a default export may still come back as its namespace, wrapped by the loader)
  const looksLikeVariant = typeof v === 'object' && v !== null && ['name', 'base', 'overrides'].some((k) => k in (v as object));
  if (!looksLikeVariant) throw new VariantError(`--variant: ${file} has no default export (export default { name, base, overrides })`);
  try {
    return { ...variantTable(v, `--variant: ${file}`), sha256 };
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
}

/** The factory a worker calls (exported by name, see ModelSpec). */
export async function modelFromSpec(args: SpecArgs): Promise<Model<State, Action, Rc>> {
  const target = await resolveTarget(args.target);
  const invariants = args.invariants === undefined ? undefined : INVARIANTS.filter((i) => args.invariants!.includes(i.name));
  return wire(target.u, { invariants, xen: target.xen, symmetry: args.symmetry === true, encoded: target.variant === undefined }).model;
}

/** The spec of a run's model, pointing at the compiled modules (workers run JavaScript). */
export function specFor(args: SpecArgs): ModelSpec {
  const worker = compiledModule('engine/worker.js');
  const module = compiledModule('xen-model.js');
  if (!existsSync(worker) || !existsSync(module)) throw new ConfigError('--workers needs the compiled checker (npm run build)');
  return { module: pathToFileURL(module).href, exportName: 'modelFromSpec', args: args satisfies SpecArgs, workerUrl: pathToFileURL(worker).href };
}
