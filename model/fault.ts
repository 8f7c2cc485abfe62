import type { Fault, FaultKind, State } from './types.js';

/**
 * A hypervisor assertion failed (BUG_ON, ASSERT, put_page on a count of 0, the hardware domain
 * crashed). Thrown where it happens; `apply` catches it and stores it in `state.fault`, keeping every
 * change made before it (MODEL.md §2).
 */
export class HypervisorFault extends Error {
  constructor(readonly fault: Fault) {
    super(`hypervisor fault: ${describeFault(fault)}`);
  }
}

export function bug(kind: FaultKind, frame: number | null = null): never {
  throw new HypervisorFault({ kind, frame });
}

export function describeFault(f: Fault): string {
  const where = f.frame === null ? '' : ` (frame ${f.frame})`;
  switch (f.kind) {
    case 'put_page-count-zero':
      return `put_page on a count of 0${where}`;
    case 'put_page-null':
      return 'put_page(NULL)';
    case 'hardware-domain-crashed':
      return 'domain_crash() of the hardware domain: Xen reboots the host';
    case 'assert-p2m-remove-page-mfn':
      return `ASSERT(!p2m_is_valid(t) || mfn matches) in p2m_remove_page${where}`;
    case 'assert-remove-foreign-owner':
      return `ASSERT(d != foreign_dom) in p2m_remove_foreign${where}`;
    case 'assert-entry-modify-extra-ref':
      return `ASSERT: p2m_entry_modify puts an old foreign entry without an extra reference held by the caller${where}`;
    case 'bug-on-foreign-type-change':
      return `BUG_ON(p2m_is_foreign(ot) || p2m_is_foreign(nt))${where}`;
  }
}

export function isFaulted(s: State): boolean {
  return s.fault !== null;
}
