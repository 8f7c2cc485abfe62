// A user's own version: a module that overrides named Xen functions of a base version, loaded with
// `checker explore --variant ./my-patch.ts`. This file is the documented, typed surface
// (`import type { Variant } from 'xen-foreign-checker'`).
//
//   const variant: Variant = {
//     name: 'my-fix',
//     base: 'xen-4.19',
//     appliesTo: ['head'],                         // also on top of these versions (--xen head)
//     description: 'what the patch changes',
//     requires: { ops: ['set_log_dirty'] },        // what the run must enumerate for it to be exercised
//     overrides: (api) => ({
//       putPage(ctx, s, mfn, note) { ...; return api.page.putPage(ctx, s, mfn, note); },
//     }),
//     properties: { invariants: [{ name: 'my-check', check: (s, c) => null }] },
//   };
//   export default variant;
//
// Every override has the signature of the XenFunctions entry it replaces (model/xen.ts): it takes
// the context (`ctx.u` the universe, `ctx.xen` the table in force: call other functions through it),
// the state to mutate and the C's arguments, and returns what the entry returns (XEN_RETURNS: 0 or a
// negative errno for most). What an override returns is checked each time it runs, and how often each
// ran is counted: a variant whose overrides never run is reported, not passed.
import * as domain from './domain.js';
import * as memory from './memory.js';
import * as page from './page.js';
import * as p2m from './p2m.js';
import * as p2mTypes from './p2m/types.js';
import { assertUnreachable, bug, xenAssert } from './fault.js';
import { activeLedger } from './ledger.js';
import * as types from './types.js';
import type { Action, Rc } from './actions.js';
import { BACKENDS, RELINQUISH_PHASES, VERSIONS, type Backend, type Owner, type State, type Version } from './types.js';
import { BUILDS, makeUniverse, OPERATIONS, type Build, type OpName, type Universe } from './config.js';
import { bootState } from './state.js';
import { VERSION_TABLES } from './versions.js';
import { XEN_RETURNS, type Ctx, type TlbFlushPolicy, type XenFunctionName, type XenFunctions } from './xen.js';

/** What a variant may override: every named Xen function, the two teardown properties and the TLB flush policy. */
export type Overrides = Partial<Pick<XenFunctions, XenFunctionName | 'finalTeardownReleasesForeign' | 'relinquishPhases' | 'tlbFlush'>>;

/** What a run needs for a variant's code to be exercised at all: turned on when the user did not say otherwise. */
export interface VariantRequires {
  /** Operations to enumerate besides the default ones (set_log_dirty, fail_next_alloc, ...). */
  ops?: OpName[];
  backend?: Backend;
  preemptibleTeardown?: boolean;
  superpages?: boolean;
  build?: Build;
  /** A universe of its own (`dom0:pvh:hw,dom1:pvh:dm=dom2,...`). */
  domains?: string;
}

/** What a property of a variant sees besides the state: the universe and the table in force. */
export interface UserPropertyContext {
  readonly u: Universe;
  readonly xen: XenFunctions;
}

/**
 * An invariant of a variant's own, written against the same state as the built-in ones: `check`
 * judges a state, `checkTransition` a step; each returns null when it holds, else a message.
 */
export interface UserInvariant {
  name: string;
  description?: string;
  check?(s: State, c: UserPropertyContext): string | null;
  checkTransition?(pre: State, a: Action, rc: Rc, post: State, c: UserPropertyContext): string | null;
}

/** A "sometimes" property of a variant's own: reached in some state or step, or the variant is vacuous. */
export interface UserWitness {
  name: string;
  description?: string;
  holds?(s: State, c: UserPropertyContext): boolean;
  holdsTransition?(pre: State, a: Action, rc: Rc, post: State, c: UserPropertyContext): boolean;
}

export interface UserProperties {
  invariants?: UserInvariant[];
  witnesses?: UserWitness[];
}

/** The building blocks a variant can reuse: every version's table and the model's primitives. */
export interface VariantApi {
  versions: typeof VERSION_TABLES;
  page: typeof page;
  p2m: typeof p2m;
  p2mTypes: typeof p2mTypes;
  memory: typeof memory;
  domain: typeof domain;
  errno: Pick<typeof types, 'EPERM' | 'ENOENT' | 'ESRCH' | 'ENXIO' | 'ENOMEM' | 'EBUSY' | 'EEXIST' | 'EINVAL' | 'EILSEQ' | 'ERESTART'>;
  /**
   * A fault in every build (BUG_ON, a crash). The kind is any text; one of your own is reported as
   * written: `api.bug('BUG_ON(!page) in my_fix', mfn)`.
   */
  bug: typeof bug;
  /** `ASSERT(cond)`: a fault in a debug build when `cond` is false; a release build goes on. */
  assert: typeof xenAssert;
  /** `ASSERT_UNREACHABLE()`: a fault in a debug build; a release build takes your next line. */
  assertUnreachable: typeof assertUnreachable;
  /** Helpers a copied Xen function needs. */
  helpers: {
    /** is_pvh_domain(d) */
    isPvh(ctx: Ctx, d: number): boolean;
    /** is_hardware_domain(d) */
    isHardware(ctx: Ctx, d: number): boolean;
    /** The domain whose toolstack makes every hypercall (the hardware domain). */
    caller(ctx: Ctx): number;
    /** d->target: the domain d is the device model of, or -1. */
    targetOf(ctx: Ctx, d: number): number;
    /** page_get_owner(page): the frame's owner without a reference. */
    pageGetOwner(s: State, mfn: number): Owner;
    /**
     * Records a reference event on the ledger that `checker trace show` prints (the page primitives
     * record their own: call them through ctx.xen and a copied function keeps its ledger lines).
     */
    ledger(frame: number, delta: number, what: string, note?: string): void;
  };
}

export interface Variant {
  name: string;
  base: Version;
  /** Further versions it may be put on top of (`--xen VERSION`); the base always. */
  appliesTo?: Version[];
  description?: string;
  requires?: VariantRequires;
  /** Invariants and witnesses of its own, checked with the built-in ones. */
  properties?: UserProperties;
  overrides: Overrides | ((api: VariantApi) => Overrides);
}

export const VARIANT_API: VariantApi = {
  versions: VERSION_TABLES,
  page,
  p2m,
  p2mTypes,
  memory,
  domain,
  errno: {
    EPERM: types.EPERM,
    ENOENT: types.ENOENT,
    ESRCH: types.ESRCH,
    ENXIO: types.ENXIO,
    ENOMEM: types.ENOMEM,
    EBUSY: types.EBUSY,
    EEXIST: types.EEXIST,
    EINVAL: types.EINVAL,
    EILSEQ: types.EILSEQ,
    ERESTART: types.ERESTART,
  },
  bug,
  assert: xenAssert,
  assertUnreachable,
  helpers: {
    isPvh: (ctx, d) => ctx.u.domains[d]!.kind === 'pvh',
    isHardware: (ctx, d) => ctx.u.domains[d]!.hardware,
    caller: (ctx) => ctx.u.domains.findIndex((x) => x.hardware),
    targetOf: (ctx, d) => ctx.u.targets[d]!,
    pageGetOwner: page.pageGetOwner,
    ledger: (frame, delta, what, note) => activeLedger()?.record(frame, delta, what, note),
  },
};

/** The names a variant may override, with what each is. */
export function overridableNames(): string[] {
  return Object.keys(VERSION_TABLES.seed).filter((k) => k !== 'version');
}

export class VariantError extends Error {
  override name = 'VariantError';
}

/** A variant checked and turned into the function table it describes. */
export interface LoadedVariantTable {
  variant: Variant;
  xen: XenFunctions;
  /** The version whose table the overrides were put on. */
  version: Version;
  requires: VariantRequires;
  properties: Required<UserProperties>;
  /** How many times each override ran in this thread so far. */
  calls: () => Record<string, number>;
}

const describeValue = (v: unknown) => (v === undefined ? 'undefined' : typeof v === 'function' ? 'a function' : JSON.stringify(v) ?? String(v));

/** Whether a value is what an entry returns (XEN_RETURNS), with what was expected for a person. */
function returnProblem(kind: (typeof XEN_RETURNS)[XenFunctionName], r: unknown): string | null {
  switch (kind) {
    case 'rc':
      return Number.isInteger(r) && (r as number) <= 0 ? null : '0 or a negative errno';
    case 'bool':
      return typeof r === 'boolean' ? null : 'true or false';
    case 'void':
      return r === undefined ? null : 'nothing';
    case 'owner':
      return r === undefined || r === null || r === 'cow' || Number.isInteger(r) ? null : 'an owner (a domain index, "cow", null) or undefined';
    case 'pageFromGfn': {
      const o = r as { page?: unknown; t?: unknown } | null;
      return typeof o === 'object' && o !== null && (o.page === null || Number.isInteger(o.page)) && (o.t === null || typeof o.t === 'string')
        ? null
        : '{ page: a frame or null, t: a p2m type or null }';
    }
  }
}

/**
 * Checks a loaded module's export and builds the function table it describes, put on `version` (its
 * base unless the variant says it applies to another). Each override is wrapped: it is counted, and
 * what it returns is checked each time it runs.
 */
export function variantTable(v: unknown, where: string, version?: string): LoadedVariantTable {
  if (typeof v !== 'object' || v === null) {
    throw new VariantError(`${where}: the default export must be a variant object { name, base, overrides }`);
  }
  const o = v as Record<string, unknown>;
  const known = ['name', 'base', 'appliesTo', 'description', 'requires', 'properties', 'overrides'];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new VariantError(`${where}: unknown field "${k}" (a variant has ${known.join(', ')})`);
  }
  if (typeof o.name !== 'string' || o.name === '') throw new VariantError(`${where}: the variant needs a "name" (a string)`);
  if (!(VERSIONS as readonly unknown[]).includes(o.base)) {
    throw new VariantError(`${where}: "base" must be one of ${VERSIONS.join(', ')} (got ${JSON.stringify(o.base)})`);
  }
  const appliesTo = o.appliesTo ?? [];
  if (!Array.isArray(appliesTo) || !appliesTo.every((x) => (VERSIONS as readonly unknown[]).includes(x))) {
    throw new VariantError(`${where}: "appliesTo" must list versions among ${VERSIONS.join(', ')}`);
  }
  const on = (version ?? o.base) as Version;
  if (on !== o.base && !appliesTo.includes(on)) {
    throw new VariantError(`${where}: variant ${o.name} is based on ${String(o.base)}${appliesTo.length ? ` and applies to ${appliesTo.join(', ')}` : ''}, not ${version}`);
  }
  const requires = checkRequires(o.requires, where);
  const properties = checkProperties(o.properties, where);
  const base = VERSION_TABLES[on];
  let overrides: unknown = o.overrides;
  if (typeof overrides === 'function') overrides = (overrides as (api: VariantApi) => unknown)(VARIANT_API);
  if (typeof overrides !== 'object' || overrides === null) {
    throw new VariantError(`${where}: "overrides" must be an object of functions, or a function (api) => object`);
  }
  const allowed = overridableNames();
  const calls: Record<string, number> = {};
  const table: Record<string, unknown> = { ...base };
  for (const [k, val] of Object.entries(overrides)) {
    if (!allowed.includes(k)) {
      throw new VariantError(`${where}: overrides "${k}", which is not a Xen function of the model; overridable: ${allowed.join(', ')}`);
    }
    const want = typeof (base as unknown as Record<string, unknown>)[k];
    if (typeof val !== want) throw new VariantError(`${where}: override "${k}" must be a ${want}, not a ${typeof val}`);
    if (k === 'relinquishPhases') table[k] = checkPhases(val, where);
    else if (k === 'tlbFlush') table[k] = checkTlbFlush(val, base.tlbFlush, where);
    else if (typeof val === 'function') table[k] = wrapOverride(k as XenFunctionName, val as (...a: unknown[]) => unknown, calls, where);
    else table[k] = val;
  }
  const variant = o as unknown as Variant;
  const xen = table as unknown as XenFunctions;
  (xen as { version: string }).version = `${on}+${variant.name}`;
  // what the final teardown does with a foreign entry's reference is read off the variant's own
  // p2mTeardown, not declared: a declaration nothing checks would be believed by the invariants
  const derived = finalTeardownReleases(xen);
  const declared = (overrides as Overrides).finalTeardownReleasesForeign;
  if (declared !== undefined && derived !== null && declared !== derived) {
    throw new VariantError(
      `${where}: finalTeardownReleasesForeign is ${declared}, but its p2mTeardown ${derived ? 'puts' : 'does not put'} a foreign entry's reference at final destroy: drop the declaration (it is read off the code)`,
    );
  }
  (xen as { finalTeardownReleasesForeign: boolean }).finalTeardownReleasesForeign = derived ?? declared ?? base.finalTeardownReleasesForeign;
  for (const k of Object.keys(calls)) calls[k] = 0;
  return { variant, xen, version: on, requires, properties, calls: () => ({ ...calls }) };
}

let counting = true;

/**
 * Runs `f` without counting override calls: a property judged by running the model (cleanup-possible's
 * search) must not make an override look exercised by the transitions explored.
 */
export function uncounted<T>(f: () => T): T {
  const before = counting;
  counting = false;
  try {
    return f();
  } finally {
    counting = before;
  }
}

function wrapOverride(name: XenFunctionName, fn: (...a: unknown[]) => unknown, calls: Record<string, number>, where: string): (...a: unknown[]) => unknown {
  const kind = XEN_RETURNS[name];
  calls[name] = 0;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (counting) calls[name]! += 1;
    const r = fn.apply(this, args);
    const problem = returnProblem(kind, r);
    if (problem !== null) {
      throw new VariantError(`${where}: override ${name} returned ${describeValue(r)}, not ${problem}${r === undefined ? ' (a missing return?)' : ''}`);
    }
    return r;
  };
  // the function a person wrote, for coverage to name (the wrapper is anonymous)
  return Object.assign(wrapped, { implementation: fn.name || name, override: true });
}

function checkPhases(val: unknown, where: string): readonly string[] {
  const phases = RELINQUISH_PHASES.filter((p) => p !== 'done');
  if (!Array.isArray(val) || val.length === 0) throw new VariantError(`${where}: relinquishPhases must list phases among ${phases.join(', ')}`);
  for (const p of val) {
    if (!(phases as readonly unknown[]).includes(p)) {
      throw new VariantError(`${where}: relinquishPhases: unknown phase ${JSON.stringify(p)}; phases are ${phases.join(', ')} (a misspelt phase would be skipped and look like a leak)`);
    }
  }
  if (new Set(val).size !== val.length) throw new VariantError(`${where}: relinquishPhases lists a phase twice`);
  return val as string[];
}

/** `tlbFlush: { pt: { at: 'unlock', allocatorFlushReaches: false } }`: per backend, the rest from the base. */
function checkTlbFlush(val: unknown, base: XenFunctions['tlbFlush'], where: string): XenFunctions['tlbFlush'] {
  const shape = `{ ${BACKENDS.join(' | ')}: { at: 'write' | 'unlock', allocatorFlushReaches: boolean } }`;
  if (typeof val !== 'object' || val === null || Array.isArray(val)) throw new VariantError(`${where}: tlbFlush must be ${shape}`);
  const out: Record<string, TlbFlushPolicy> = { ...base };
  for (const [backend, p] of Object.entries(val)) {
    if (!(BACKENDS as readonly string[]).includes(backend)) throw new VariantError(`${where}: tlbFlush: unknown backend ${JSON.stringify(backend)}; backends are ${BACKENDS.join(', ')}`);
    const o = p as Partial<TlbFlushPolicy> | null;
    if (typeof o !== 'object' || o === null || (o.at !== 'write' && o.at !== 'unlock') || typeof o.allocatorFlushReaches !== 'boolean' || Object.keys(o).length !== 2) {
      throw new VariantError(`${where}: tlbFlush.${backend} must be { at: 'write' | 'unlock', allocatorFlushReaches: boolean }`);
    }
    out[backend] = { at: o.at, allocatorFlushReaches: o.allocatorFlushReaches };
  }
  return out as XenFunctions['tlbFlush'];
}

function checkRequires(r: unknown, where: string): VariantRequires {
  if (r === undefined) return {};
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new VariantError(`${where}: "requires" must be an object { ops, backend, preemptibleTeardown, superpages, build, domains }`);
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['ops', 'backend', 'preemptibleTeardown', 'superpages', 'build', 'domains'].includes(k)) throw new VariantError(`${where}: requires: unknown field "${k}"`);
  }
  if (o.ops !== undefined && (!Array.isArray(o.ops) || !o.ops.every((x) => (OPERATIONS as readonly unknown[]).includes(x)))) {
    throw new VariantError(`${where}: requires.ops must list operations among ${OPERATIONS.join(', ')}`);
  }
  if (o.backend !== undefined && !(BACKENDS as readonly unknown[]).includes(o.backend)) throw new VariantError(`${where}: requires.backend must be one of ${BACKENDS.join(', ')}`);
  if (o.build !== undefined && !(BUILDS as readonly unknown[]).includes(o.build)) throw new VariantError(`${where}: requires.build must be one of ${BUILDS.join(', ')}`);
  for (const k of ['preemptibleTeardown', 'superpages']) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new VariantError(`${where}: requires.${k} must be true or false`);
  }
  if (o.domains !== undefined && typeof o.domains !== 'string') throw new VariantError(`${where}: requires.domains must be a --domains string`);
  return o as VariantRequires;
}

function checkProperties(p: unknown, where: string): Required<UserProperties> {
  if (p === undefined) return { invariants: [], witnesses: [] };
  if (typeof p !== 'object' || p === null) throw new VariantError(`${where}: "properties" must be { invariants, witnesses }`);
  return userProperties(p as Record<string, unknown>, `${where}: properties`);
}

/** Checks a set of user properties (a variant's, or a --properties file's): names, and each has a part to check. */
export function userProperties(o: Record<string, unknown>, where: string): Required<UserProperties> {
  for (const k of Object.keys(o)) {
    if (k !== 'invariants' && k !== 'witnesses') throw new VariantError(`${where}: unknown field "${k}" (invariants, witnesses)`);
  }
  const list = (k: 'invariants' | 'witnesses', parts: [string, string]) => {
    const xs = o[k] ?? [];
    if (!Array.isArray(xs)) throw new VariantError(`${where}.${k} must be a list`);
    const names = new Set<string>();
    xs.forEach((x: Record<string, unknown>, i) => {
      if (typeof x !== 'object' || x === null || typeof x.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(x.name)) {
        throw new VariantError(`${where}.${k}[${i}] needs a "name" of lower-case letters, digits and dashes`);
      }
      if (names.has(x.name)) throw new VariantError(`${where}: two ${k} are named "${x.name}"`);
      names.add(x.name);
      if (typeof x[parts[0]] !== 'function' && typeof x[parts[1]] !== 'function') {
        throw new VariantError(`${where}.${k} "${x.name}" needs ${parts[0]}() or ${parts[1]}()`);
      }
    });
    return xs;
  };
  return { invariants: list('invariants', ['check', 'checkTransition']) as UserInvariant[], witnesses: list('witnesses', ['holds', 'holdsTransition']) as UserWitness[] };
}

/**
 * Whether a table's final teardown (p2m_teardown at complete_domain_destroy) puts the reference of a
 * foreign entry it discards, read off the code: dom1's p2m maps dom0's frame 0 foreign, dom1's
 * teardown runs, and the count tells. null when the probe itself fails (the declaration stands).
 */
export function finalTeardownReleases(xen: XenFunctions): boolean | null {
  try {
    const u = makeUniverse({ domains: 'dom0:pvh:hw,dom1:pvh', gfns: 1, spareFrames: 0, version: 'seed' });
    const s = bootState(u);
    s.p2m[1]![0] = { type: 'map_foreign', mfn: 0 };
    s.frames[0]!.count = 2;
    s.frames[1] = { owner: null, count: 0, allocated: false, m2p: null };
    s.domains[1]!.life = 'destroyed';
    xen.p2mTeardown({ u, xen }, s, 1);
    return s.frames[0]!.count === 1;
  } catch {
    return null;
  }
}
