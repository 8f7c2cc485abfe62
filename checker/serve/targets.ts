// What the server runs: a universe with a version, a mutant of the catalogue, or one of the variants
// it was started with. A page names a target with a TargetSpec and the server resolves it again on
// every request; a trace names one in its #meta. Code is loaded only at start-up, from the variant
// files given on the command line: a variant named inside a trace (or sent by a page) is looked up
// among those, never loaded, so opening a trace cannot run code from it.
import { resolve } from 'node:path';
import { ConfigError, type Universe } from '../../model/index.js';
import { INVARIANTS } from '../../invariants/index.js';
import { TraceFormatError, universeToConfig, type ItfMeta } from '../trace/itf.js';
import { readTraceText, rebuildTrace, type LoadedVariant } from '../trace/load.js';
import type { Trace } from '../trace/build.js';
import { loadVariant, resolveTarget, universeFromFlags, variantProperties, wire, type Target, type Wired } from '../xen-model.js';
import type { TargetSpec } from './protocol.js';

/** A request the server refuses: the status (4xx) and one line for the page. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new RequestError(400, message);

/** A variant file loaded at start-up (`file`: its absolute path). */
export type ServerVariant = LoadedVariant;

/** Loads the --variant files (VariantError on a file that does not load, ConfigError on a clash). */
export async function loadServerVariants(files: readonly string[]): Promise<ServerVariant[]> {
  const out: ServerVariant[] = [];
  for (const f of files) {
    const loaded = await loadVariant(f);
    const { variant, xen, sha256 } = loaded;
    if (out.some((v) => v.name === variant.name)) throw new ConfigError(`--variant: two variants are named "${variant.name}"`);
    out.push({ name: variant.name, base: variant.base, file: resolve(f), xen, sha256, properties: variantProperties(loaded) });
  }
  return out;
}

/** A resolved target, wired with every invariant (what traces, steps and searches judge). */
export interface Resolved {
  spec: TargetSpec;
  target: Target;
  w: Wired;
}

export class Targets {
  private readonly cache = new Map<string, Resolved>();

  constructor(readonly variants: readonly ServerVariant[]) {}

  /** The spec a page sends, checked field by field, then resolved (cached: wiring is not free). */
  async resolve(raw: unknown): Promise<Resolved> {
    const spec = checkSpec(raw);
    const key = JSON.stringify(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    let target: Target;
    try {
      if (spec.variant !== null) {
        const v = this.variants.find((x) => x.name === spec.variant);
        if (!v) throw badRequest(`variant "${spec.variant}" is not one this server was started with (checker serve --variant FILE)`);
        if (spec.mutant !== null) throw badRequest('a target is a mutant or a variant, not both');
        const u = universeFromFlags({ ...flagsOf(spec), version: v.base });
        target = { u, xen: v.xen, label: `variant ${v.name} of ${v.base} (${v.file})`, variantRecord: { name: v.name, sha256: v.sha256 }, properties: v.properties };
      } else {
        target = await resolveTarget({ ...flagsOf(spec), mutant: spec.mutant ?? undefined });
      }
    } catch (e) {
      if (e instanceof ConfigError) throw badRequest(e.message);
      throw e;
    }
    const r: Resolved = { spec: specOf(target.u, target.mutant ?? null, spec.variant), target, w: wire(target.u, { xen: target.xen }) };
    // a handful of universes at a time is what a person looks at
    if (this.cache.size >= 32) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, r);
    return r;
  }

  /** Whether the server can open a trace of this variant record (a RequestError says why not). */
  checkTraceVariant(recorded: { name?: unknown; sha256?: unknown } | string, where: string): void {
    const name = typeof recorded === 'string' ? recorded : String(recorded.name);
    const v = this.variants.find((x) => x.name === name);
    if (typeof recorded !== 'string' && v && v.sha256 === recorded.sha256) return;
    throw badRequest(
      v
        ? `${where} is a trace of variant "${name}" made from another version of ${v.file}`
        : `${where} is a trace of variant "${name}"; the server never loads code named in a trace: start it with checker serve --variant FILE`,
    );
  }

  /**
   * A trace file's text: its shape, its target (a variant only among those the server was started
   * with, by name and hash: never loaded from the trace), and the counterexample rebuilt by replaying
   * its path (with the ledger), after checking every recorded state and the message
   * (checker/trace/load.ts, shared with the command line).
   */
  async readTrace(text: string, name: string): Promise<{ r: Resolved; meta: ItfMeta; trace: Trace }> {
    let tf;
    let trace: Trace;
    try {
      tf = await readTraceText(text, name, { loaded: this.variants });
      trace = rebuildTrace(tf);
    } catch (e) {
      if (e instanceof TraceFormatError) throw badRequest(e.message);
      throw e;
    }
    const variant = tf.target.variantRecord?.name ?? null;
    const spec = specOf(tf.target.u, tf.target.mutant ?? null, variant);
    const key = JSON.stringify(spec);
    let r = this.cache.get(key);
    if (!r) {
      r = { spec, target: tf.target, w: wire(tf.target.u, { xen: tf.target.xen }) };
      this.cache.set(key, r);
    }
    return { r, meta: tf.meta, trace };
  }
}

function flagsOf(s: TargetSpec) {
  return {
    version: s.version,
    // no backend named: the universe's default (or a mutant's own)
    backend: s.backend === '' ? undefined : s.backend,
    // no domains named: the universe's default
    domains: s.domains === '' ? undefined : s.domains,
    gfns: s.gfns,
    spareFrames: s.spareFrames,
    // no operations named: the universe's default set
    ops: s.ops.length === 0 ? undefined : s.ops.join(','),
    destroyableDom0: s.destroyableDom0,
    preemptibleTeardown: s.preemptibleTeardown,
    build: s.build === '' ? undefined : s.build,
    superpages: s.superpages,
    granularity: s.granularity,
    // atomic has no vCPUs (the universe refuses a count with it)
    vcpus: s.granularity === 'steps' ? s.vcpus : undefined,
  };
}

/** The spec of a resolved universe: what the page shows and sends back. */
export function specOf(u: Universe, mutant: string | null, variant: string | null): TargetSpec {
  const c = universeToConfig(u);
  return {
    version: c.version,
    backend: c.backend,
    domains: c.domains,
    gfns: c.gfns,
    spareFrames: c.spareFrames,
    ops: c.ops,
    destroyableDom0: c.hardwareDomainDestroyable,
    preemptibleTeardown: c.preemptibleTeardown,
    build: c.build,
    superpages: c.superpages,
    mutant,
    variant,
    granularity: u.granularity,
    vcpus: u.granularity === 'steps' ? u.vcpus : 0,
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A TargetSpec from untrusted JSON: every field of the right type, or a 400 naming the first that is not. */
export function checkSpec(v: unknown): TargetSpec {
  if (!isObj(v)) throw badRequest('target: expected an object {version, backend, domains, ...}');
  const str = (k: string): string => {
    if (typeof v[k] !== 'string') throw badRequest(`target.${k}: expected a string`);
    return v[k] as string;
  };
  const int = (k: string): number => {
    if (!Number.isInteger(v[k])) throw badRequest(`target.${k}: expected a whole number`);
    return v[k] as number;
  };
  const bool = (k: string): boolean => {
    if (v[k] === undefined) return false;
    if (typeof v[k] !== 'boolean') throw badRequest(`target.${k}: expected true or false`);
    return v[k] as boolean;
  };
  const opt = (k: string): string | null => {
    if (v[k] === undefined || v[k] === null) return null;
    return str(k);
  };
  if (!Array.isArray(v.ops) || !v.ops.every((o) => typeof o === 'string')) throw badRequest('target.ops: expected a list of operation names');
  return {
    version: str('version'),
    backend: str('backend'),
    domains: str('domains'),
    gfns: int('gfns'),
    spareFrames: int('spareFrames'),
    ops: v.ops as string[],
    destroyableDom0: bool('destroyableDom0'),
    preemptibleTeardown: bool('preemptibleTeardown'),
    build: opt('build') ?? '',
    superpages: bool('superpages'),
    mutant: opt('mutant'),
    variant: opt('variant'),
    // absent: atomic (a page of an earlier version sends neither)
    granularity: opt('granularity') ?? 'atomic',
    vcpus: v.vcpus === undefined ? 0 : int('vcpus'),
  };
}

/** The invariants in a fixed order (the page lists them). */
export const INVARIANT_NAMES = INVARIANTS.map((i) => i.name);
