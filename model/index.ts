// The model's public API.
import { enumerateActions, apply, applyFast, applyInto, type Action, type Rc, type Step } from './actions.js';
import type { Universe } from './config.js';
import { decodeState, encodedSize, encodeState } from './encode.js';
import { bootState } from './state.js';
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
  init(): State;
  apply(s: State, a: Action): Step;
  applyFast(s: State, a: Action): Step;
  /** The hot path: runs `a` on a copy of `s` held in `scratch` (see applyInto). */
  applyInto(scratch: State, s: State, a: Action): Rc;
  encode(s: State, out?: Uint8Array): Uint8Array;
  decode(b: Uint8Array): State;
  readonly encodedSize: number;
}

export function xenTable(u: Universe): XenFunctions {
  return VERSION_TABLES[u.version];
}

export function makeXenModel(u: Universe, xen: XenFunctions = xenTable(u)): XenModel {
  const ctx: Ctx = { u, xen };
  const size = encodedSize(u);
  return {
    u,
    ctx,
    actions: enumerateActions(u),
    init: () => bootState(u),
    apply: (s, a) => apply(ctx, s, a),
    applyFast: (s, a) => applyFast(ctx, s, a),
    applyInto: (scratch, s, a) => applyInto(ctx, scratch, s, a),
    encode: (s, out) => encodeState(s, out ?? new Uint8Array(size)),
    decode: (b) => decodeState(u, b),
    encodedSize: size,
  };
}
export { diffStates, formatChange, formatEntry, formatOwner, type Change } from './diff.js';

/**
 * Whether the backend can hold foreign entries: EPT always; PT (p2m-pt.c) refuses them until
 * ce0224bf96 (Xen 4.13), so in `seed` and `xen-4.5` a PT foreign entry is malformed.
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
export { Ledger, tracedTable, withLedger, describeEvent, type LedgerEvent } from './ledger.js';
export { dropAllocationReference, getPage, putPage, pageGetOwnerAndReference } from './page.js';
export { canonicalEncode, domainPermutations, invertPerm, permuteAction, permuteState, symmetryClasses, type DomPerm } from './symmetry.js';
