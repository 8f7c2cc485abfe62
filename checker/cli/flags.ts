// Flags that several commands share: the universe, depth, counts and invariant selection.
import { Option, type Command } from 'commander';
import { BACKENDS, DEFAULT_DOMAINS, OPERATIONS, VERSIONS } from '../../model/index.js';
import { INVARIANTS, type Invariant } from '../../invariants/index.js';
import { UsageError } from './common.js';

export const DEFAULT_DEPTH = 6;

export function universeOptions(cmd: Command): Command {
  return cmd
    .option('--xen <name>', `Xen version: ${VERSIONS.join(', ')} (default: seed)`)
    // the old spelling, kept for one release: --version is the tool's version everywhere else
    .addOption(new Option('--version [name]', 'deprecated spelling of --xen').hideHelp())
    .option('--backend <name>', `the host's p2m backend: ${BACKENDS.join(', ')} (default: ept)`)
    .option(
      '--domains <list>',
      `domains as domN:kind[:hw][:dm=domM], comma-separated: kind pvh or hvm; dom0 must be the hardware domain (hw); dm=domM makes the domain the device model of domM (XEN_DOMCTL_set_target), the one domain besides dom0 that may map domM's pages from xen-4.19 (default: ${DEFAULT_DOMAINS})`,
    )
    .option('--gfns <n>', 'gfns per domain (default: 2)')
    .option('--spare-frames <n>', 'free frames beyond one per domain gfn (default: 1)')
    .option(
      '--ops <list>',
      `operations to enumerate, from ${OPERATIONS.join(', ')} (default: the four hypercalls and destroy, or kill_begin and relinquish_step with --preemptible-teardown; set_log_dirty is optional)`,
    )
    .option('--destroyable-dom0', 'let destroy reach the hardware domain (by default it answers -EINVAL)')
    .option('--preemptible-teardown', 'split destroy into kill_begin and relinquish_step (one chunk each), interleaving with other calls')
    .option('--build <mode>', 'debug: a failed ASSERT is a hypervisor fault; release: ASSERTs compiled out, the C\'s release path taken (default: debug)')
    .option('--superpages', 'boot each aligned gfn pair as one superpage entry; changing one half splits it, which allocates a p2m table page (add fail_next_alloc to --ops to make that fail)')
    .option(
      '--granularity <g>',
      'atomic: one hypercall per transition (default); steps: one segment of one vCPU\'s hypercall per transition, between the interleaving points of the C (page references, entry writes, p2m lock and unlock), so depth counts segments. populate_physmap, decrease_reservation, add_to_physmap_foreign and remove_from_physmap run in segments; teardown, set_log_dirty, fail_next_alloc and the overrides of a --variant written as plain functions run as they are called (a variant function gets the points of the Xen functions it calls through ctx.xen)',
    )
    .option('--vcpus <n>', 'with --granularity steps: toolstack vCPUs issuing hypercalls concurrently, 1 to 4 (default: 2)');
}

/** What --xen and its old spelling --version leave in a command's options. */
export interface XenFlag {
  xen?: string;
  /** `--version NAME` (deprecated for --xen), or `true` for a bare `--version`: the tool's version. */
  version?: string | boolean;
}

/**
 * Folds --xen and the deprecated --version NAME into `version`, the field the rest of the checker
 * reads, warning once on stderr for the old spelling. Returns false when a bare --version asked for
 * the tool's version instead (the caller prints it and exits 0).
 */
export function takeXenFlag(o: XenFlag, warn: (s: string) => void): o is { version?: string } {
  const old = o.version;
  if (old === true) return false;
  if (typeof old === 'string') {
    if (o.xen !== undefined && o.xen !== old) throw new UsageError(`--xen ${o.xen} and --version ${old} disagree: give --xen alone`);
    warn(`checker: warning: --version ${old} is the old spelling of --xen ${old} (the Xen version); --version will mean only the tool's version in the next release\n`);
  }
  const xen = o.xen ?? (typeof old === 'string' ? old : undefined);
  delete o.xen;
  if (xen === undefined) delete o.version;
  else o.version = xen;
  return true;
}

export function parseDepth(v: string | undefined): number {
  if (v === undefined) return DEFAULT_DEPTH;
  if (v === 'all') return Infinity;
  if (!/^\d+$/.test(v)) throw new UsageError(`--depth: expected a whole number ≥ 0 or "all", got "${v}"`);
  return Number(v);
}

export function parsePositive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name}: expected a whole number ≥ 1, got "${v}"`);
  return Number(v);
}

/** The invariants --invariants names, among the built-in ones and those of the run's variant or --properties. */
export function selectInvariants(spec: string | undefined, available: readonly Invariant[] = INVARIANTS): Invariant[] {
  if (spec === undefined) return [...available];
  const names = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--invariants: name at least one invariant (see checker list invariants)');
  for (const name of names) {
    if (!available.some((i) => i.name === name)) {
      throw new UsageError(`--invariants: unknown invariant "${name}"; known: ${available.map((i) => i.name).join(', ')}`);
    }
  }
  return available.filter((i) => names.includes(i.name));
}

/** Default memory ceiling: 60% of the machine's memory (the run stops cleanly, exit 3). */
export function defaultMemoryLimit(totalBytes: number): number {
  return Math.floor(totalBytes * 0.6);
}

/** The frontier's memory by default: a quarter of the memory ceiling (beyond it, levels go to disk). */
export function defaultFrontierMemory(memoryLimitBytes: number): number {
  return Math.floor(memoryLimitBytes / 4);
}

/** A size: MiB, or with a unit (512K, 64M, 2G); bytes. */
export function parseSize(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)([KMG])?i?B?$/i.exec(v);
  const bytes = m ? Number(m[1]) * { K: 1024, M: 1 << 20, G: 1 << 30 }[((m[2] ?? 'M').toUpperCase()) as 'K' | 'M' | 'G'] : NaN;
  if (!(bytes >= 1024) || !Number.isSafeInteger(bytes)) throw new UsageError(`${name}: expected a size of at least 1K, in MiB or with a unit (512K, 64M, 2G), got "${v}"`);
  return bytes;
}

/** A duration: a number of seconds, or with a unit (500ms, 30s, 5m, 2h); milliseconds. */
export function parseDuration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UsageError(`${name}: expected a duration such as 90, 90s, 15m or 2h, got "${v}"`);
  return ms;
}
