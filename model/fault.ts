// Hypervisor faults: a failed ASSERT (debug builds only), a BUG_ON, a crash. A fault stops the
// operation where it happens; `apply` stores it in `state.fault`, keeping every change made before
// it (MODEL.md §2). With `--build release` an ASSERT is compiled out and the model follows the C's
// release path at that site (MODEL.md §1); a BUG_ON, a NULL dereference, a count underflow and the
// hardware domain's crash fault in both builds.
import type { Fault, State } from './types.js';
import type { Ctx } from './xen.js';

/** What kind of check failed, as the C spells it. */
export type Assertion = 'ASSERT' | 'ASSERT_UNREACHABLE' | 'BUG_ON' | 'crash';

export interface FaultKindInfo {
  assertion: Assertion;
  /** The check and where it is, as a Xen developer reads it. */
  text: string;
  /** What a release build does instead (for an ASSERT), or why it faults in both builds. */
  release: string;
}

/** Every fault the model raises, in a fixed order (the encoding numbers them from 1). */
export const FAULTS = {
  'put_page-count-zero': {
    assertion: 'ASSERT',
    text: 'put_page on a count of 0',
    release: 'a release build would wrap the count and corrupt the frame: faulted in both builds',
  },
  'put_page-null': { assertion: 'crash', text: 'put_page(NULL)', release: 'a NULL dereference: faulted in both builds' },
  'hardware-domain-crashed': {
    assertion: 'crash',
    text: 'domain_crash() of the hardware domain: Xen reboots the host',
    release: 'the same in both builds',
  },
  'assert-p2m-remove-page-mfn': {
    assertion: 'ASSERT',
    text: 'ASSERT(!p2m_is_valid(t) || mfn matches) in p2m_remove_page',
    release: 'release builds go on and remove the entry',
  },
  'assert-remove-foreign-owner': {
    assertion: 'ASSERT',
    text: 'ASSERT(d != foreign_dom) in p2m_remove_foreign',
    release: 'release builds go on and remove the entry',
  },
  'assert-entry-modify-extra-ref': {
    assertion: 'ASSERT_UNREACHABLE',
    text: 'ASSERT: p2m_entry_modify puts an old foreign entry without an extra reference held by the caller',
    release: 'release builds return -EILSEQ and write nothing',
  },
  'bug-on-foreign-type-change': {
    assertion: 'BUG_ON',
    text: 'BUG_ON(p2m_is_foreign(ot) || p2m_is_foreign(nt)) in p2m_change_type_one',
    release: 'the same in both builds',
  },
  'assert-get-page-from-gfn-self': {
    assertion: 'ASSERT',
    text: "ASSERT(fdom != d) in get_page_from_gfn: a foreign entry maps a frame of the querying domain",
    release: 'release builds return the page with the reference held',
  },
  'assert-get-page-from-mfn-and-type-self': {
    assertion: 'ASSERT_UNREACHABLE',
    text: 'ASSERT_UNREACHABLE in get_page_from_mfn_and_type (a8325f981c): a foreign entry maps a frame of the querying domain',
    release: 'release builds put the reference and return NULL',
  },
  'assert-relinquish-foreign-left': {
    assertion: 'ASSERT',
    text: 'ASSERT(gfn <= p2m->max_mapped_pfn || !p2m->nr_foreign) at the end of relinquish_p2m_mapping: a foreign entry was inserted behind the teardown cursor',
    release: 'release builds go on; the root clear later drops the entry without a put',
  },
  'assert-relinquish-removal-failed': {
    assertion: 'ASSERT_UNREACHABLE',
    text: 'ASSERT_UNREACHABLE in relinquish_p2m_mapping: removing a foreign entry failed',
    release: 'release builds break out without advancing the cursor and return the error',
  },
} as const satisfies Record<string, FaultKindInfo>;

/** The model's own fault kinds. */
export type BuiltinFaultKind = keyof typeof FAULTS;
export const FAULT_KINDS = Object.keys(FAULTS) as BuiltinFaultKind[];

/**
 * A fault kind: one of the model's, or any other string a variant raises (`api.bug('ASSERT(fdom !=
 * d) in p2m_add_foreign')`): fault kinds are open, and a variant's is reported as written.
 */
export type FaultKind = BuiltinFaultKind | (string & {});

export function isBuiltinFault(kind: string): kind is BuiltinFaultKind {
  return Object.hasOwn(FAULTS, kind);
}

/** Thrown where a fault happens; `apply` catches it. */
export class HypervisorFault extends Error {
  constructor(readonly fault: Fault) {
    super(`hypervisor fault: ${describeFault(fault)}`);
  }
}

/** A fault in every build: BUG_ON, a crash, a count underflow. */
export function bug(kind: FaultKind, frame: number | null = null): never {
  if (typeof kind !== 'string' || kind === '') throw new TypeError(`a fault kind is a non-empty string, not ${JSON.stringify(kind)}`);
  throw new HypervisorFault({ kind, frame });
}

/**
 * `ASSERT(cond)`: a fault in a debug build when `cond` is false; a release build goes on (the
 * caller's next line is the C's next line).
 */
export function xenAssert(ctx: Ctx, cond: boolean, kind: FaultKind, frame: number | null = null): void {
  if (!cond && ctx.u.build === 'debug') bug(kind, frame);
}

/** `ASSERT_UNREACHABLE()`: a fault in a debug build; a release build takes the C's error path after it. */
export function assertUnreachable(ctx: Ctx, kind: FaultKind, frame: number | null = null): void {
  if (ctx.u.build === 'debug') bug(kind, frame);
}

export function describeFault(f: Fault): string {
  const where = f.frame === null ? '' : ` (frame ${f.frame})`;
  return `${isBuiltinFault(f.kind) ? FAULTS[f.kind].text : f.kind}${where}`;
}

export function isFaulted(s: State): boolean {
  return s.fault !== null;
}
