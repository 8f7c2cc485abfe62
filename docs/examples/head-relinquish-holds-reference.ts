// A proposed fix for head's teardown of a device model that maps its target (docs/findings.md,
// "head-device-model-teardown"). Since ac607edc2e, p2m_entry_modify puts an old foreign entry's
// reference only when the caller holds a reference of its own (count > allocated + 1); the toolstack's
// remove_from_physmap holds one (get_page_from_gfn's), relinquish_p2m_mapping holds none, so tearing
// down a domain that maps a foreign page trips the check. Here relinquish_p2m_mapping takes a
// reference around each removal, as remove_from_physmap does; the rest is head.
//
//   npx checker explore --variant docs/examples/head-relinquish-holds-reference.ts --depth 6
import type { Variant } from 'xen-foreign-checker';

const variant: Variant = {
  name: 'head-relinquish-holds-reference',
  base: 'head',
  description: 'head with relinquish_p2m_mapping holding a reference on each foreign frame while it removes the entry',
  overrides: (api) => ({
    relinquishP2mMapping(ctx, s, d, p) {
      const r = s.domains[d]!.relinquish!;
      const p2m = s.p2m[d]!;
      for (let gfn = r.cursor; gfn < p2m.length; gfn++) {
        const e = p2m[gfn]!;
        if (e === null || e.type !== 'map_foreign') continue;
        if (api.domain.preemptCheck(p)) {
          r.cursor = gfn;
          return api.errno.ERESTART;
        }
        const mfn = e.mfn;
        ctx.xen.pageGetOwnerAndReference(ctx, s, mfn); // the entry's own reference keeps the count above 0
        const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
        ctx.xen.putPage(ctx, s, mfn, 'the teardown\'s own reference');
        if (rc !== 0) {
          api.assertUnreachable(ctx, 'assert-relinquish-removal-failed', mfn);
          r.cursor = gfn; // break without advancing
          return rc;
        }
      }
      r.cursor = p2m.length;
      const left = p2m.findIndex((e) => e !== null && e.type === 'map_foreign');
      api.assert(ctx, left < 0, 'assert-relinquish-foreign-left', left < 0 ? null : p2m[left]!.mfn);
      return 0;
    },
  }),
};

export default variant;
