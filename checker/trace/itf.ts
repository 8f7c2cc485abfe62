// ITF (Informal Trace Format, apalache ADR-015) for counterexamples: integers as #bigint, maps as
// #map, optional values and p2m entries as tagged variants. `#meta` carries the configuration, the
// property and the action-index path (the replay token).
import {
  domainName,
  actionArgs,
  hypotheticalConfiguration,
  type Action,
  type Entry,
  type Fault,
  type Frame,
  type Owner,
  type Rc,
  type State,
  type Universe,
  LIVES,
  P2M_TYPES,
  type P2mType,
  type Life,
  type FaultKind,
  type RelinquishPhase,
} from '../../model/index.js';

import type { VariantRecord } from '../xen-model.js';

/**
 * The state variables, then Quint's model-based-testing pair: `mbt::actionTaken` (the operation that
 * led to the state, "init" for the first) and `mbt::nondetPicks` (each argument an operation can take,
 * Some(value) when the step's operation took it, else None), as `quint run --mbt` writes them.
 */
export const ITF_VARS = ['frames', 'domains', 'p2m', 'armedFailures', 'fault', 'action', 'rc', 'mbt::actionTaken', 'mbt::nondetPicks'] as const;
/** The variables a trace of ours must have (armedFailures came with model revision 4: 0 when absent). */
const REQUIRED_VARS = ['frames', 'domains', 'p2m', 'fault', 'action', 'rc'];
/** What a trace of this model written by another tool must have: the states alone say the rest. */
const FOREIGN_REQUIRED_VARS = ['frames', 'domains', 'p2m'];

/** Every argument name an operation can take, with its Apalache type: the keys of mbt::nondetPicks. */
export const NONDET_ARGS: Record<string, 'Str' | 'Int' | 'Bool'> = { t: 'Str', gT: 'Int', f: 'Str', gF: 'Int', d: 'Str', gfn: 'Int', on: 'Bool' };

const UNIT_OPTION = (t: string) => `Some(${t}) | None(UNIT)`;

/**
 * Each variable's type in Apalache's type system 1.2 (`#meta.varTypes`, which Apalache requires to read
 * a trace back): records `{ f: T }`, variants `A(T) | B(UNIT)`, functions `K -> V`.
 */
export function itfVarTypes(): Record<(typeof ITF_VARS)[number], string> {
  const entry = 'Empty(UNIT) | Mapped({ type: Str, mfn: Int, order: Int })';
  const ops = ['populate_physmap', 'decrease_reservation', 'remove_from_physmap'].map((o) => `${o}({ d: Str, gfn: Int })`);
  const action = [
    'Init(UNIT)',
    ...ops,
    'add_to_physmap_foreign({ t: Str, gT: Int, f: Str, gF: Int })',
    ...['destroy', 'kill_begin', 'relinquish_step'].map((o) => `${o}({ d: Str })`),
    'set_log_dirty({ d: Str, on: Bool })',
    'fail_next_alloc(UNIT)',
  ].join(' | ');
  return {
    frames: `Int -> { owner: Free(UNIT) | Cow(UNIT) | Dom(Str), count: Int, allocated: Bool, m2p: ${UNIT_OPTION('Int')} }`,
    domains: `Str -> { life: Str, logDirty: Bool, relinquish: ${UNIT_OPTION('{ phase: Str, cursor: Int }')}, tables: Bool, pool: Bool }`,
    p2m: `Str -> (Int -> ${entry})`,
    armedFailures: 'Int',
    fault: UNIT_OPTION(`{ kind: Str, frame: ${UNIT_OPTION('Int')} }`),
    action,
    rc: 'Some(Int) | None(UNIT) | Fault(UNIT)',
    'mbt::actionTaken': 'Str',
    'mbt::nondetPicks': `{ ${Object.entries(NONDET_ARGS).map(([k, t]) => `${k}: ${UNIT_OPTION(t)}`).join(', ')} }`,
  };
}

type Json = null | boolean | string | number | Json[] | { [k: string]: Json };

export interface TraceConfig {
  version: string;
  backend: string;
  domains: string;
  gfns: number;
  spareFrames: number;
  ops: string[];
  hardwareDomainDestroyable: boolean;
  preemptibleTeardown: boolean;
  build: string;
  superpages: boolean;
  /** `steps` granularity and its vCPUs (absent: atomic). */
  granularity?: string;
  vcpus?: number;
  /** Why the configuration never existed in Xen, when it did not (MODEL.md §1), else null. */
  hypothetical: string | null;
  /** A mutant of the catalogue, when the trace is of one (null or absent: none). */
  mutant?: string | null;
  /**
   * A --variant's name and the SHA-256 of its file, when the trace is of one. Never a path: a trace
   * is data, and reading one never loads code; the user names the file again (--variant FILE).
   * (Traces of older versions recorded the file's path here, a string.)
   */
  variant?: VariantRecord | string | null;
}

export type { VariantRecord };

export interface ItfMeta {
  format: 'ITF';
  /** Apalache's type of each variable (see itfVarTypes). */
  varTypes?: Record<string, string>;
  'format-description': string;
  tool: string;
  configuration: TraceConfig;
  property: string;
  status: 'violation';
  message: string;
  depth: number;
  /** The replay token: action indices from the initial state. */
  path: number[];
}

/** The universe's domains as --domains spells them: `dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm`. */
export function domainsSpec(u: Universe): string {
  return u.domains.map((d) => `dom${d.id}:${d.kind}${d.hardware ? ':hw' : ''}${d.target != null ? `:dm=dom${d.target}` : ''}`).join(',');
}

export function universeToConfig(u: Universe): TraceConfig {
  const c: TraceConfig = {
    version: u.version,
    backend: u.backend,
    domains: domainsSpec(u),
    gfns: u.gfns,
    spareFrames: u.spareFrames,
    ops: [...u.ops],
    hardwareDomainDestroyable: u.hardwareDomainDestroyable,
    preemptibleTeardown: u.preemptibleTeardown,
    build: u.build,
    superpages: u.superpages,
    hypothetical: hypotheticalConfiguration(u),
  };
  if (u.granularity === 'steps') {
    c.granularity = u.granularity;
    c.vcpus = u.vcpus;
  }
  return c;
}

const big = (n: number): Json => ({ '#bigint': String(n) });
const some = (v: Json): Json => ({ tag: 'Some', value: v });
const none: Json = { tag: 'None', value: { '#tup': [] } };

function ownerJson(u: Universe, o: Owner): Json {
  if (o === null) return { tag: 'Free', value: { '#tup': [] } };
  if (o === 'cow') return { tag: 'Cow', value: { '#tup': [] } };
  return { tag: 'Dom', value: domainName(u, o) };
}

function entryJson(e: Entry | null): Json {
  if (e === null) return { tag: 'Empty', value: { '#tup': [] } };
  return { tag: 'Mapped', value: { type: e.type, mfn: big(e.mfn), order: big(e.order ?? 0) } };
}

export function stateToItf(u: Universe, s: State, index: number, a: Action | null, actionIndex: number | null, rc: Rc | undefined): Record<string, Json> {
  const args = a === null ? {} : argsJson(u, a);
  return {
    '#meta': { index, ...(actionIndex === null ? {} : { actionIndex }) },
    // keyed by mfn, as p2m entries name frames
    frames: {
      '#map': s.frames.map((f, m) => [big(m), { owner: ownerJson(u, f.owner), count: big(f.count), allocated: f.allocated, m2p: f.m2p === null ? none : some(big(f.m2p)) }]),
    },
    domains: {
      '#map': s.domains.map((d, i) => [
        domainName(u, i),
        {
          life: d.life,
          logDirty: d.logDirty,
          relinquish: d.relinquish === null ? none : some({ phase: d.relinquish.phase, cursor: big(d.relinquish.cursor) }),
          tables: d.tables,
          pool: d.pool,
        },
      ]),
    },
    p2m: { '#map': s.p2m.map((row, d) => [domainName(u, d), { '#map': row.map((e, g) => [big(g), entryJson(e)]) }]) },
    armedFailures: big(s.armedFailures),
    fault: s.fault === null ? none : some({ kind: s.fault.kind, frame: s.fault.frame === null ? none : some(big(s.fault.frame)) }),
    action: a === null ? { tag: 'Init', value: { '#tup': [] } } : Object.keys(args).length === 0 ? { tag: a.op, value: { '#tup': [] } } : { tag: a.op, value: args },
    rc: rc === undefined ? none : rc === null ? { tag: 'Fault', value: { '#tup': [] } } : some(big(rc)),
    'mbt::actionTaken': a === null ? 'init' : a.op,
    'mbt::nondetPicks': Object.fromEntries(Object.keys(NONDET_ARGS).map((k) => [k, k in args ? some(args[k]!) : none])),
  };
}

/** An action's arguments as ITF values: integers as #bigint, a switch as a boolean. */
function argsJson(u: Universe, a: Action): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(actionArgs(u, a))) out[k] = typeof v === 'number' ? big(v) : v;
  if (a.op === 'set_log_dirty') out.on = a.on;
  return out;
}

export interface TraceInput {
  u: Universe;
  property: string;
  message: string;
  path: number[];
  states: State[];
  actions: Action[];
  rcs: Rc[];
  tool: string;
  mutant?: string | undefined;
  variant?: VariantRecord | undefined;
}

export function traceToItf(t: TraceInput): Record<string, Json> {
  const meta: ItfMeta = {
    format: 'ITF',
    'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
    tool: t.tool,
    varTypes: itfVarTypes(),
    configuration: {
      ...universeToConfig(t.u),
      // null when none, as in every JSON document (a reader never guesses from a missing key)
      mutant: t.mutant ?? null,
      variant: t.variant === undefined ? null : { name: t.variant.name, sha256: t.variant.sha256 },
    },
    property: t.property,
    status: 'violation',
    message: t.message,
    depth: t.path.length,
    path: t.path,
  };
  return {
    '#meta': meta as unknown as Json,
    vars: [...ITF_VARS],
    states: t.states.map((s, i) =>
      stateToItf(t.u, s, i, i === 0 ? null : t.actions[i - 1]!, i === 0 ? null : t.path[i - 1]!, i === 0 ? undefined : t.rcs[i - 1]),
    ),
  };
}

/** A malformed trace file: the message is one line. */
export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

function fail(where: string, what: string): never {
  throw new TraceFormatError(`${where}: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readBig(v: unknown, where: string): number {
  if (isObj(v) && typeof v['#bigint'] === 'string' && /^-?\d{1,15}$/.test(v['#bigint'])) return Number(v['#bigint']);
  if (typeof v === 'number' && Number.isInteger(v)) return v; // older ITF wrote plain numbers
  return fail(where, 'expected an integer ({"#bigint": "..."})');
}

function readVariant(v: unknown, where: string): { tag: string; value: unknown } {
  if (!isObj(v) || typeof v.tag !== 'string') return fail(where, 'expected a variant {"tag": ..., "value": ...}');
  return { tag: v.tag, value: v.value };
}

function readOption(v: unknown, where: string): unknown | undefined {
  const { tag, value } = readVariant(v, where);
  if (tag === 'None') return undefined;
  if (tag === 'Some') return value;
  return fail(where, `expected Some or None, got ${tag}`);
}

function readMap(v: unknown, where: string): [unknown, unknown][] {
  if (!isObj(v) || !Array.isArray(v['#map'])) return fail(where, 'expected {"#map": [[key, value], ...]}');
  return (v['#map'] as unknown[]).map((kv, i) => {
    if (!Array.isArray(kv) || kv.length !== 2) return fail(`${where}[${i}]`, 'expected a [key, value] pair');
    return [kv[0], kv[1]] as [unknown, unknown];
  });
}

/** Reads one ITF state back into a model state for universe `u`. */
export function itfToState(u: Universe, v: unknown, where: string): State {
  if (!isObj(v)) return fail(where, 'expected a state object');
  const nameToIndex = new Map(u.domains.map((d, i) => [`dom${d.id}`, i]));
  const dom = (name: unknown, w: string): number => {
    const i = typeof name === 'string' ? nameToIndex.get(name) : undefined;
    if (i === undefined) return fail(w, `unknown domain ${JSON.stringify(name)}`);
    return i;
  };
  // frames as a #map keyed by mfn (or, from older traces, an array indexed by mfn)
  let frameList: unknown[];
  if (Array.isArray(v.frames)) frameList = v.frames;
  else {
    const pairs = readMap(v.frames, `${where}.frames`);
    frameList = new Array<unknown>(pairs.length);
    for (const [k, fv] of pairs) {
      const m = readBig(k, `${where}.frames`);
      if (m < 0 || m >= pairs.length || frameList[m] !== undefined) fail(`${where}.frames`, `mfn ${m} is repeated or out of range (${pairs.length} frames)`);
      frameList[m] = fv;
    }
  }
  const frames: Frame[] = frameList.map((f: unknown, m: number) => {
    const w = `${where}.frames[${m}]`;
    if (!isObj(f)) return fail(w, 'expected an object');
    const o = readVariant(f.owner, `${w}.owner`);
    const owner: Owner = o.tag === 'Free' ? null : o.tag === 'Cow' ? 'cow' : o.tag === 'Dom' ? dom(o.value, `${w}.owner`) : fail(`${w}.owner`, `unknown owner ${o.tag}`);
    if (typeof f.allocated !== 'boolean') return fail(`${w}.allocated`, 'expected a boolean');
    const m2p = readOption(f.m2p, `${w}.m2p`);
    return { owner, count: readBig(f.count, `${w}.count`), allocated: f.allocated, m2p: m2p === undefined ? null : readBig(m2p, `${w}.m2p`) };
  });
  const domains: State['domains'] = u.domains.map(() => ({ life: 'alive' as Life, logDirty: false, relinquish: null, tables: true, pool: true }));
  const seenDomains = new Set<number>();
  for (const [k, dv] of readMap(v.domains, `${where}.domains`)) {
    const d = dom(k, `${where}.domains`);
    seenDomains.add(d);
    const w = `${where}.domains[${String(k)}]`;
    if (!isObj(dv) || !(LIVES as readonly unknown[]).includes(dv.life) || typeof dv.logDirty !== 'boolean') {
      return fail(w, 'expected {life, logDirty, relinquish}');
    }
    const r = readOption(dv.relinquish, `${w}.relinquish`);
    let relinquish: State['domains'][number]['relinquish'] = null;
    if (r !== undefined) {
      if (!isObj(r) || !['mappings', 'paging', 'memory', 'done'].includes(r.phase as string)) return fail(`${w}.relinquish`, 'expected {phase, cursor}');
      relinquish = { phase: r.phase as RelinquishPhase, cursor: readBig(r.cursor, `${w}.relinquish.cursor`) };
    }
    const flag = (k: 'tables' | 'pool'): boolean => {
      const v = (dv as Record<string, unknown>)[k];
      if (v === undefined) return true; // a trace of revision 3
      if (typeof v !== 'boolean') return fail(`${w}.${k}`, 'expected a boolean');
      return v;
    };
    domains[d] = { life: dv.life as Life, logDirty: dv.logDirty, relinquish, tables: flag('tables'), pool: flag('pool') };
  }
  if (seenDomains.size !== u.domains.length) fail(`${where}.domains`, `expected ${u.domains.length} domains`);
  const p2m: (Entry | null)[][] = u.domains.map(() => Array.from({ length: u.gfns }, () => null));
  for (const [k, row] of readMap(v.p2m, `${where}.p2m`)) {
    const d = dom(k, `${where}.p2m`);
    for (const [gk, ev] of readMap(row, `${where}.p2m[${String(k)}]`)) {
      const w = `${where}.p2m[${String(k)}]`;
      const g = readBig(gk, w);
      if (g < 0 || g >= u.gfns) fail(w, `gfn ${g} is outside the universe (${u.gfns} gfns)`);
      const e = readVariant(ev, `${w}[${g}]`);
      if (e.tag === 'Empty') continue;
      if (e.tag !== 'Mapped' || !isObj(e.value) || !(P2M_TYPES as readonly unknown[]).includes(e.value.type)) {
        fail(`${w}[${g}]`, 'expected Empty or Mapped {type, mfn}');
      }
      const val = e.value as Record<string, unknown>;
      const order = val.order === undefined ? 0 : readBig(val.order, `${w}[${g}].order`);
      if (order !== 0 && order !== 1) fail(`${w}[${g}].order`, 'expected 0 or 1');
      const mfn = readBig(val.mfn, `${w}[${g}].mfn`);
      p2m[d]![g] = order === 1 ? { type: val.type as P2mType, mfn, order: 1 } : { type: val.type as P2mType, mfn };
    }
  }
  // absent in a trace of another tool that records only frames, domains and p2m: no fault
  const fv = v.fault === undefined ? undefined : readOption(v.fault, `${where}.fault`);
  let fault: Fault | null = null;
  if (fv !== undefined) {
    // a fault kind is the model's, or a variant's own assertion as written (any non-empty text)
    if (!isObj(fv) || typeof fv.kind !== 'string' || fv.kind === '') fail(`${where}.fault`, 'expected {kind, frame} with a fault kind');
    const fr = readOption((fv as Record<string, unknown>).frame, `${where}.fault.frame`);
    fault = { kind: (fv as Record<string, unknown>).kind as FaultKind, frame: fr === undefined ? null : readBig(fr, `${where}.fault.frame`) };
  }
  const armedFailures = v.armedFailures === undefined ? 0 : readBig(v.armedFailures, `${where}.armedFailures`);
  return { frames, domains, p2m, armedFailures, fault };
}

export interface ParsedTrace {
  /** The #meta of a trace the checker wrote (with its configuration, property and path); null for another tool's. */
  meta: ItfMeta | null;
  /** Another tool's #meta, as it is (free-form by ADR-015), or {}. */
  otherMeta: Record<string, unknown>;
  states: unknown[];
}

/**
 * Checks the top-level shape; states are read later, against the configuration's universe. A trace
 * the checker wrote carries its configuration, property and path in #meta; a trace of this model
 * written by another tool needs only its states (frames, domains, p2m), from which the path is found.
 */
export function parseItf(text: string, file: string): ParsedTrace {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    // Node quotes the start of the file in its message: keep it to one line
    const why = (e as Error).message.replace(/\s+/g, ' ').slice(0, 120);
    return fail(file, `not valid JSON (${why})`);
  }
  if (!isObj(v)) return fail(file, 'expected an ITF trace object');
  const meta = v['#meta'];
  if (meta !== undefined && !isObj(meta)) return fail(file, '"#meta" must be an object');
  const ours = isObj(meta) && meta.configuration !== undefined;
  const required = ours ? REQUIRED_VARS : FOREIGN_REQUIRED_VARS;
  if (!Array.isArray(v.vars) || !required.every((x) => (v as Record<string, unknown[]>).vars!.includes(x))) {
    fail(file, `"vars" must list ${required.join(', ')}`);
  }
  if (!Array.isArray(v.states) || v.states.length === 0) return fail(file, '"states" must be a non-empty array');
  if (!ours) return { meta: null, otherMeta: isObj(meta) ? meta : {}, states: v.states };
  const cfg = meta.configuration;
  if (!isObj(cfg)) return fail(file, '"#meta.configuration" must be an object');
  if (typeof meta.property !== 'string') return fail(file, '"#meta.property" is missing');
  if (!Array.isArray(meta.path) || !meta.path.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
    return fail(file, '"#meta.path" must be an array of action indices');
  }
  if (meta.path.length !== v.states.length - 1) {
    fail(file, `"#meta.path" has ${meta.path.length} steps but there are ${v.states.length} states (expected ${meta.path.length + 1}): the trace is truncated or edited`);
  }
  return { meta: meta as unknown as ItfMeta, otherMeta: meta, states: v.states };
}
