// The model's public API.
import { enumerateActions, apply, applyFast, applyInto, type Action, type Rc, type Step } from './actions.js';
import type { Universe } from './config.js';
import { decodeState, encodedSize, encodeState } from './encode.js';
import { bootState, cloneState, copyStateInto } from './state.js';
import { stepsRunner } from './steps.js';
import { produce } from 'immer';
import type { State } from './types.js';
import { VERSION_TABLES } from './versions.js';
import type { Ctx, XenFunctions } from './xen.js';

export * from './types.js';
export * from './config.js';
export * from './actions.js';
export { bootState, cloneState, copyStateInto, statesEqual } from './state.js';
export { encodeState, decodeState, encodedSize, EncodingRangeError } from './encode.js';
export { EncodedStepper } from './encoded.js';
export { describeFault, HypervisorFault, FAULTS, FAULT_KINDS, isBuiltinFault, type FaultKindInfo, type Assertion, type BuiltinFaultKind } from './fault.js';
export { totPages, domainHeld } from './page.js';
export type { Ctx, XenFunctions, XenFunctionName, PageFromGfn, Preempt } from './xen.js';
export { VERSION_TABLES } from './versions.js';
export { MUTANTS, findMutant, mutantTable, type Mutant, type Expectation } from './mutants.js';

export interface XenModel {
  readonly u: Universe;
  readonly ctx: Ctx;
  /** Every action, in the fixed enumeration order: an action's index is its position here. */
  readonly actions: readonly Action[];
  /**
   * The actions enabled in `s`: `actions` with `atomic` granularity; with `steps`, per vCPU its
   * hypercall in flight (unless it waits for a lock), or every hypercall when it is idle.
   */
  enabled(s: State): readonly Action[];
  init(): State;
  apply(s: State, a: Action): Step;
  applyFast(s: State, a: Action): Step;
  /** The hot path: runs `a` on a copy of `s` held in `scratch` (see applyInto). */
  applyInto(scratch: State, s: State, a: Action): Rc;
  encode(s: State, out?: Uint8Array): Uint8Array;
  decode(b: Uint8Array): State;
  readonly encodedSize: number;
  /**
   * With `steps` granularity: what partial-order reduction needs of a transition, its identity
   * across states and the locations its last step read and wrote (model/steps.ts).
   */
  readonly interleaving?: Interleaving;
}

export interface Interleaving {
  /** Transition identities are 0 .. transitions-1. */
  readonly transitions: number;
  transitionId(a: Action): number;
  /** The footprint of the last apply (reads, then writes, as bit sets of `Locations`); refilled by the next. */
  footprint(): Uint32Array;
}

export function xenTable(u: Universe): XenFunctions {
  return VERSION_TABLES[u.version];
}

export function makeXenModel(u: Universe, xen: XenFunctions = xenTable(u)): XenModel {
  const ctx: Ctx = { u, xen, sched: undefined }; // an own property: the hot path reads it in every p2m lock and write
  const size = encodedSize(u);
  const actions = enumerateActions(u);
  if (u.granularity === 'steps') return stepsXenModel(u, ctx, actions, size);
  const none: readonly Action[] = [];
  return {
    u,
    ctx,
    actions,
    enabled: (s) => (s.fault === null ? actions : none),
    init: () => bootState(u),
    apply: (s, a) => apply(ctx, s, a),
    applyFast: (s, a) => applyFast(ctx, s, a),
    applyInto: (scratch, s, a) => applyInto(ctx, scratch, s, a),
    encode: (s, out) => encodeState(s, out ?? new Uint8Array(size)),
    decode: (b) => decodeState(u, b),
    encodedSize: size,
  };
}
/** The model with `steps` granularity: the same functions, run a segment at a time (model/steps.ts). */
function stepsXenModel(u: Universe, ctx: Ctx, actions: readonly Action[], size: number): XenModel {
  const runner = stepsRunner(u, ctx.xen, actions);
  const step = (next: State, a: Action): Rc => {
    if (next.fault !== null) throw new Error('a faulted state has no successors');
    return runner.run(next, a);
  };
  return {
    u,
    ctx,
    actions,
    enabled: (s) => runner.enabled(s),
    init: () => bootState(u),
    apply: (s, a) => {
      let rc: Rc = null;
      const next = produce(s, (draft) => {
        rc = step(draft as State, a);
      });
      return { next, rc };
    },
    applyFast: (s, a) => {
      const next = cloneState(s);
      return { next, rc: step(next, a) };
    },
    applyInto: (scratch, s, a) => {
      copyStateInto(scratch, s);
      return step(scratch, a);
    },
    encode: (s, out) => encodeState(s, out ?? new Uint8Array(size)),
    decode: (b) => decodeState(u, b),
    encodedSize: size,
    interleaving: { transitions: runner.transitions, transitionId: runner.transitionId, footprint: runner.footprint },
  };
}

export { diffStates, formatChange, formatEntry, formatOwner, type Change } from './diff.js';

/**
 * Whether the backend can hold foreign entries: EPT always; PT (p2m-pt.c) refuses them until
 * ce0224bf96 (Xen 4.12), so in `seed` and `xen-4.5` a PT foreign entry is malformed.
 */
export function backendSupportsForeign(u: Universe): boolean {
  return u.backend === 'ept' || (u.version !== 'seed' && u.version !== 'xen-4.5');
}

/**
 * Why a configuration never existed, or null. In Xen 4.4 and 4.5 a PVH guest needed VMX with HAP
 * (hvm.c's pvh_supported, set only by vmx.c), so a seed or xen-4.5 host with PVH domains always used
 * EPT: on `pt` the run shows what the PT code would have done (MODEL.md §1).
 */
export function hypotheticalConfiguration(u: Universe): string | null {
  if (u.backend === 'pt' && (u.version === 'seed' || u.version === 'xen-4.5') && u.domains.some((d) => d.kind === 'pvh')) {
    return `hypothetical configuration: ${u.version} on pt never existed (in Xen 4.4 and 4.5 a PVH domain needed VMX with HAP, i.e. EPT); the run shows what the PT code would have done`;
  }
  return null;
}
export {
  variantTable,
  overridableNames,
  userProperties,
  finalTeardownReleases,
  uncounted,
  VariantError,
  VARIANT_API,
  type Variant,
  type VariantApi,
  type Overrides,
  type VariantRequires,
  type UserInvariant,
  type UserWitness,
  type UserProperties,
  type UserPropertyContext,
  type LoadedVariantTable,
} from './variant.js';
export { XEN_RETURNS } from './xen.js';
export { independent, IN_FLIGHT, SEGMENTED_OPS, describeAt, callPre, PENDING, STALE, type StepsState, type VcpuState } from './steps.js';
export { Ledger, tracedTable, withLedger, describeEvent, type LedgerEvent } from './ledger.js';
export { dropAllocationReference, getPage, putPage, pageGetOwnerAndReference } from './page.js';
export { canonicalEncode, domainPermutations, invertPerm, permuteAction, permuteState, symmetryClasses, type DomPerm } from './symmetry.js';
