// The package's public entry (`import ... from 'xen-foreign-checker'`): the types a variant or a
// property file is written against, the model's building blocks, and what an exported regression
// test calls. Everything else is the command line's.
import { createRequire } from 'node:module';
import type { UniverseOptions } from '../model/index.js';
import { judgePath } from './trace/replay.js';
import { resolveTarget, targetInvariants, wireTarget, type TargetFlags } from './xen-model.js';

export type {
  Action,
  Backend,
  Build,
  Ctx,
  Domain,
  DomIndex,
  Entry,
  Fault,
  FaultKind,
  Frame,
  Life,
  Overrides,
  Owner,
  P2mType,
  PageFromGfn,
  Preempt,
  Rc,
  RelinquishPhase,
  State,
  Universe,
  UniverseOptions,
  UserInvariant,
  UserProperties,
  UserPropertyContext,
  UserWitness,
  Variant,
  VariantApi,
  VariantRequires,
  Version,
  XenFunctionName,
  XenFunctions,
} from '../model/index.js';
export { makeUniverse, makeXenModel, VARIANT_API, VERSION_TABLES, XEN_RETURNS } from '../model/index.js';

/** The tool's version. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface CounterexampleCheck {
  /** The universe the counterexample was found in (as a trace's #meta.configuration gives it). */
  universe: UniverseOptions & { domains?: string };
  /** Action indices from the booted state (the replay token). */
  path: readonly number[];
  /** The property the counterexample violates. */
  property: string;
  /** The table it runs under: a mutant of the catalogue, a variant file, or (neither) the universe's version. */
  mutant?: string;
  variant?: string;
  /** The return codes the trace recorded: a step that now returns another stops the path. */
  rcs?: readonly (number | null)[];
}

export interface CounterexampleVerdict {
  /** The property's message where it first fails along the path, or null (it holds throughout). */
  violation: string | null;
  /** The step where it first fails (0: the booted state). */
  at: number | null;
  /** The frame the violation is about, when the property names one. */
  subject: { frame: number | null };
  /** Where the path stopped applying (a return code changed), if it did. */
  diverged: { step: number; why: string } | null;
}

/**
 * Runs a counterexample's operations under a table and judges its property along them: what a test
 * exported by `checker trace export-test` asserts on (a verdict and the property's subject, never
 * the wording of a message).
 */
export async function checkCounterexample(o: CounterexampleCheck): Promise<CounterexampleVerdict> {
  const u = o.universe;
  const flags: TargetFlags = {
    version: u.version,
    backend: u.backend,
    domains: typeof u.domains === 'string' ? u.domains : undefined,
    gfns: u.gfns,
    spareFrames: u.spareFrames,
    ops: Array.isArray(u.ops) ? u.ops.join(',') : u.ops,
    destroyableDom0: u.hardwareDomainDestroyable,
    preemptibleTeardown: u.preemptibleTeardown,
    build: u.build,
    superpages: u.superpages,
    mutant: o.mutant,
    variant: o.variant,
    exactUniverse: true,
  };
  const target = await resolveTarget(flags);
  const inv = targetInvariants(target).find((i) => i.name === o.property);
  if (!inv) throw new Error(`no invariant named ${o.property}`);
  const { violation, at, subject, diverged } = judgePath(wireTarget(target, [inv.name]), inv, o.path, o.rcs);
  return { violation, at, subject, diverged };
}
