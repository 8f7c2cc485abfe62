// A proposed fix for the foreign insert into a dying domain (docs/findings.md,
// "insert-into-dying-domain"). On x86 nothing on the insert path tests is_dying: hap_alloc's refusal
// (ff600a8cf8, XSA-410) matters only when a table page is missing, so an entry inserted behind
// relinquish_p2m_mapping's cursor, or between the walk and the root clear, is dropped by the root
// clear without a put. Arm closed the same hole in p2m_set_entry (3ebe773293); here p2m_add_foreign
// refuses a dying or dead target before it touches the target's p2m (refusing in p2m_set_entry would
// come after the previous page at gpfn was already removed, a failed call with an effect). The rest
// is xen-4.19 (or head, with --xen head).
//
//   npx checker explore --variant docs/examples/dying-target-refused.ts --depth 6
import type { Variant } from 'xen-foreign-checker';

const variant: Variant = {
  name: 'dying-target-refused',
  base: 'xen-4.19',
  appliesTo: ['head'],
  requires: { preemptibleTeardown: true },
  description: "xen-4.19 whose p2m_add_foreign refuses a target that is dying or dead",
  overrides: (api) => ({
    p2mAddForeign(ctx, s, tdom, fgfn, gpfn, fdom) {
      if (s.domains[tdom]!.life !== 'alive') return api.errno.ESRCH; // if ( tdom->is_dying ) return -ESRCH;
      return api.p2m.p2mAddForeign419(ctx, s, tdom, fgfn, gpfn, fdom); // the same body in 4.19 and head
    },
  }),
};

export default variant;
