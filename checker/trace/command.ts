// The command line that reproduces a run or a counterexample: the flags of its universe that differ
// from the defaults it would otherwise get (the global ones, or a mutant's), shell-quoted.
import { findMutant, makeUniverse, type Universe } from '../../model/index.js';
import { domainsSpec } from './itf.js';

export interface CommandTarget {
  mutant?: string | null | undefined;
  /** The variant's file as the reader should type it (a trace records only its name and hash). */
  variantFile?: string | null | undefined;
  /**
   * Every setting of the universe, the defaults too: a command shown to be copied elsewhere, where
   * another checker's defaults may differ (a replay token means nothing without its universe).
   */
  explicit?: boolean;
}

/** Shell-quotes an argument when it needs it. */
export function shq(a: string): string {
  return /^[\w.,:/=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(args: readonly string[]): string {
  return args.map(shq).join(' ');
}

/**
 * The flags that give universe `u` for this target: every setting that differs from the universe the
 * target would have without flags (a mutant brings its own backend, domains or operations).
 */
export function universeArgs(u: Universe, t: CommandTarget = {}): string[] {
  const args: string[] = [];
  const flag = (differs: boolean, ...a: string[]) => {
    if (differs || t.explicit) args.push(...a);
  };
  let base: Universe;
  if (t.mutant) {
    const m = findMutant(t.mutant);
    args.push('--mutant', t.mutant);
    base = makeUniverse({ ...(m?.universe ?? {}), version: m?.base ?? u.version, preemptibleTeardown: u.preemptibleTeardown });
  } else if (t.variantFile) {
    args.push('--variant', t.variantFile);
    base = makeUniverse({ version: u.version, preemptibleTeardown: u.preemptibleTeardown });
  } else {
    base = makeUniverse({ preemptibleTeardown: u.preemptibleTeardown });
    flag(u.version !== base.version, '--xen', u.version);
  }
  flag(u.backend !== base.backend, '--backend', u.backend);
  flag(domainsSpec(u) !== domainsSpec(base), '--domains', domainsSpec(u));
  flag(u.gfns !== base.gfns, '--gfns', String(u.gfns));
  flag(u.spareFrames !== base.spareFrames, '--spare-frames', String(u.spareFrames));
  flag(u.ops.join(',') !== base.ops.join(','), '--ops', u.ops.join(','));
  if (u.hardwareDomainDestroyable && !base.hardwareDomainDestroyable) args.push('--destroyable-dom0');
  if (u.preemptibleTeardown && !base.preemptibleTeardown) args.push('--preemptible-teardown');
  flag(u.build !== base.build, '--build', u.build);
  if (u.superpages && !base.superpages) args.push('--superpages');
  if (u.granularity === 'steps') args.push('--granularity', 'steps', '--vcpus', String(u.vcpus));
  return args;
}

/** `checker replay --path P [flags]`: re-executes a counterexample from its replay token alone. */
export function replayCommand(u: Universe, path: readonly number[], t: CommandTarget = {}): string {
  return shellJoin(['checker', 'replay', '--path', path.length === 0 ? '' : path.join(','), ...universeArgs(u, t)]);
}
