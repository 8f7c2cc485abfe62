// The universe of MODEL.md §1: which domains, how many gfns and frames, which backend and version.
import { BACKENDS, VERSIONS, type Backend, type DomainKind, type Version } from './types.js';

/**
 * Every operation the model knows, in the fixed enumeration order. `destroy` is atomic teardown;
 * with --preemptible-teardown it is replaced by `kill_begin` and `relinquish_step`. `set_log_dirty`
 * is optional (MODEL.md §3.7): not enumerated unless named in --ops.
 */
export const OPERATIONS = [
  'populate_physmap',
  'decrease_reservation',
  'add_to_physmap_foreign',
  'remove_from_physmap',
  'destroy',
  'kill_begin',
  'relinquish_step',
  'set_log_dirty',
  'fail_next_alloc',
] as const;
export type OpName = (typeof OPERATIONS)[number];

export const CORE_OPERATIONS: readonly OpName[] = ['populate_physmap', 'decrease_reservation', 'add_to_physmap_foreign', 'remove_from_physmap'];
export const OPTIONAL_OPERATIONS: readonly OpName[] = ['set_log_dirty', 'fail_next_alloc'];

/** Build modes (MODEL.md §1): debug checks every ASSERT; release compiles them out. */
export const BUILDS = ['debug', 'release'] as const;
export type Build = (typeof BUILDS)[number];
const ATOMIC_TEARDOWN: readonly OpName[] = ['destroy'];
const PREEMPTIBLE_TEARDOWN: readonly OpName[] = ['kill_begin', 'relinquish_step'];

export function defaultOps(preemptible: boolean): OpName[] {
  return [...CORE_OPERATIONS, ...(preemptible ? PREEMPTIBLE_TEARDOWN : ATOMIC_TEARDOWN)];
}

export interface DomainConfig {
  /** The domain id: 0 for dom0. */
  id: number;
  kind: DomainKind;
  /** The hardware domain (only dom0 may be). */
  hardware: boolean;
  /**
   * The domain id of this domain's target when it is a device model (`dom1:pvh:dm=dom2`:
   * XEN_DOMCTL_set_target, `d->target`), else null. The device model holds a reference on its target
   * until its own complete_domain_destroy.
   */
  target?: number | null;
}

export interface Universe {
  domains: DomainConfig[];
  /** Gfns per domain: 0 .. gfns-1. */
  gfns: number;
  /** Frames beyond one per domain gfn. */
  spareFrames: number;
  backend: Backend;
  version: Version;
  ops: OpName[];
  /** MODEL.md §3.5: dom0 answers destroy with -EINVAL unless this is set. */
  hardwareDomainDestroyable: boolean;
  /** Teardown split into kill_begin, relinquish_step (one chunk each) and the automatic finish. */
  preemptibleTeardown: boolean;
  /** debug: a failed ASSERT is a fault; release: the C's release path (MODEL.md §1). */
  build: Build;
  /** Each aligned gfn pair booted as one order-1 entry (MODEL.md §1, §3.8). */
  superpages: boolean;
  /** Per domain index: the index of its device model's target (d->target), or -1. Derived from `domains`. */
  targets: number[];
  /** MODEL.md §6: one transition per hypercall (`atomic`), or per segment of one vCPU's hypercall (`steps`). */
  granularity: Granularity;
  /** With `steps`: how many toolstack vCPUs issue hypercalls concurrently (0 with `atomic`). */
  vcpus: number;
}

export const GRANULARITIES = ['atomic', 'steps'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface UniverseOptions {
  domains?: string | DomainConfig[];
  gfns?: number | string;
  spareFrames?: number | string;
  backend?: string;
  version?: string;
  ops?: string | OpName[];
  hardwareDomainDestroyable?: boolean;
  preemptibleTeardown?: boolean;
  build?: string;
  superpages?: boolean;
  granularity?: string;
  vcpus?: number | string;
}

/** dom0 the PVH hardware domain; dom1 PVH, device model of dom2; dom2 HVM (MODEL.md §1). */
export const DEFAULT_DOMAINS = 'dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm';

/** Bad configuration: the message is one line meant for a person. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function frameCount(u: Universe): number {
  return u.domains.length * u.gfns + u.spareFrames;
}

export function domainName(u: Universe, d: number): string {
  return `dom${u.domains[d]!.id}`;
}

/** Parses `dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm`. */
export function parseDomains(spec: string): DomainConfig[] {
  const items = spec.split(',').map((s) => s.trim());
  if (items.length === 0 || (items.length === 1 && items[0] === '')) {
    throw new ConfigError('--domains: at least one domain is needed (e.g. dom0:pvh:hw,dom1:pvh)');
  }
  return items.map((item) => {
    const parts = item.split(':');
    const m = /^dom(\d{1,4})$/.exec(parts[0] ?? '');
    if (!m) throw new ConfigError(`--domains: "${item}" should start with domN (e.g. dom1:pvh)`);
    const kind = parts[1] ?? 'pvh';
    if (kind !== 'pvh' && kind !== 'hvm') {
      throw new ConfigError(`--domains: "${item}" has kind "${kind}"; kinds are pvh and hvm`);
    }
    let hardware = false;
    let target: number | null = null;
    for (const f of parts.slice(2)) {
      const dm = /^dm=dom(\d{1,4})$/.exec(f);
      if (f === 'hw') hardware = true;
      else if (dm) {
        if (target !== null) throw new ConfigError(`--domains: "${item}" names two targets; a device model has one (d->target)`);
        target = Number(dm[1]);
      } else if (f.startsWith('dm=')) {
        throw new ConfigError(`--domains: "${item}": "${f}" should name a domain, e.g. dm=dom2`);
      } else {
        throw new ConfigError(`--domains: "${item}" has unknown flag "${f}"; flags are hw and dm=domN (device model of domN)`);
      }
    }
    return { id: Number(m[1]), kind, hardware, target };
  });
}

/** The index of the domain that `d` is the device model of, or -1. */
export function targetOf(u: Universe, d: number): number {
  return u.targets[d]!;
}

function parseCount(name: string, v: number | string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}: expected a whole number from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

export function makeUniverse(o: UniverseOptions = {}): Universe {
  const domains = typeof o.domains === 'string' || o.domains === undefined
    ? parseDomains(o.domains ?? DEFAULT_DOMAINS)
    : o.domains.map((d) => ({ ...d, target: d.target ?? null }));
  if (domains.length === 0) throw new ConfigError('--domains: at least one domain is needed (0 given)');
  if (domains.length > 8) throw new ConfigError(`--domains: at most 8 domains (${domains.length} given)`);
  const seen = new Set<number>();
  for (const d of domains) {
    if (seen.has(d.id)) throw new ConfigError(`--domains: dom${d.id} appears twice`);
    seen.add(d.id);
  }
  domains.sort((a, b) => a.id - b.id);
  const dom0 = domains.find((d) => d.id === 0);
  if (!dom0) throw new ConfigError('--domains: dom0 is required: its toolstack issues every hypercall');
  if (!dom0.hardware) throw new ConfigError('--domains: dom0 must be the hardware domain (write dom0:pvh:hw)');
  const otherHw = domains.find((d) => d.id !== 0 && d.hardware);
  if (otherHw) throw new ConfigError(`--domains: only dom0 can be the hardware domain, not dom${otherHw.id}`);
  for (const d of domains) {
    if (d.target === null) continue;
    if (d.target === d.id) throw new ConfigError(`--domains: dom${d.id}:dm=dom${d.target}: a domain cannot be its own device model (set_target refuses d == e)`);
    const t = domains.find((x) => x.id === d.target);
    if (!t) throw new ConfigError(`--domains: dom${d.id}:dm=dom${d.target}: there is no dom${d.target} in the universe`);
    if (t.hardware) throw new ConfigError(`--domains: dom${d.id}:dm=dom${d.target}: the hardware domain cannot be a device model's target`);
  }

  const gfns = parseCount('--gfns', o.gfns ?? 2, 1, 8);
  const spareFrames = parseCount('--spare-frames', o.spareFrames ?? 1, 0, 16);

  const backend = o.backend ?? 'ept';
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new ConfigError(`--backend: unknown backend "${backend}"; choose one of ${BACKENDS.join(', ')}`);
  }
  const version = o.version ?? 'seed';
  if (!(VERSIONS as readonly string[]).includes(version)) {
    throw new ConfigError(`--xen: unknown version "${version}"; choose one of ${VERSIONS.join(', ')}`);
  }
  const preemptibleTeardown = o.preemptibleTeardown ?? false;
  const ops = parseOps(o.ops, preemptibleTeardown);
  const build = o.build ?? 'debug';
  if (!(BUILDS as readonly string[]).includes(build)) {
    throw new ConfigError(`--build: unknown build "${build}"; choose debug or release`);
  }
  const superpages = o.superpages ?? false;
  if (superpages && gfns % 2 !== 0) {
    throw new ConfigError(`--superpages: each superpage covers an aligned pair of gfns, so --gfns must be even (got ${gfns})`);
  }
  const granularity = o.granularity ?? 'atomic';
  if (!(GRANULARITIES as readonly string[]).includes(granularity)) {
    throw new ConfigError(`--granularity: unknown granularity "${granularity}"; choose atomic or steps`);
  }
  if (granularity === 'atomic' && o.vcpus !== undefined) throw new ConfigError('--vcpus needs --granularity steps (atomic runs one hypercall at a time)');
  const vcpus = granularity === 'steps' ? parseCount('--vcpus', o.vcpus ?? 2, 1, 4) : 0;
  const u: Universe = {
    domains,
    gfns,
    spareFrames,
    backend: backend as Backend,
    version: version as Version,
    ops,
    hardwareDomainDestroyable: o.hardwareDomainDestroyable ?? false,
    preemptibleTeardown,
    build: build as Build,
    superpages,
    targets: domains.map((d) => (d.target === null ? -1 : domains.findIndex((x) => x.id === d.target))),
    granularity: granularity as Granularity,
    vcpus,
  };
  if (frameCount(u) > 64) throw new ConfigError(`the universe has ${frameCount(u)} frames; at most 64 are supported`);
  return u;
}

function parseOps(ops: string | OpName[] | undefined, preemptible: boolean): OpName[] {
  if (ops === undefined) return defaultOps(preemptible);
  const list = typeof ops === 'string' ? ops.split(',').map((s) => s.trim()).filter((s) => s !== '') : ops;
  if (list.length === 0) throw new ConfigError('--ops: at least one operation is needed');
  for (const op of list) {
    if (!(OPERATIONS as readonly string[]).includes(op)) {
      throw new ConfigError(`--ops: unknown operation "${op}"; operations are ${OPERATIONS.join(', ')}`);
    }
  }
  for (const op of list) {
    if (preemptible && ATOMIC_TEARDOWN.includes(op as OpName)) {
      throw new ConfigError(`--ops: ${op} is atomic teardown; with --preemptible-teardown use ${PREEMPTIBLE_TEARDOWN.join(' and ')}`);
    }
    if (!preemptible && PREEMPTIBLE_TEARDOWN.includes(op as OpName)) {
      throw new ConfigError(`--ops: ${op} needs --preemptible-teardown`);
    }
  }
  // Keep the fixed order of OPERATIONS whatever order the user wrote: action indices stay stable.
  return OPERATIONS.filter((op) => list.includes(op));
}
