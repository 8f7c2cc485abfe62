// The seed's missing teardown cleanup, fixed as a variant, in two parts:
//  1. during domain_kill, walk the p2m and remove every foreign entry (which puts its reference)
//     before relinquishing memory, as relinquish_p2m_mapping does upstream since 845a60b63b;
//  2. p2m_add_foreign refuses a target that is dying or dead (-EINVAL), before touching its p2m:
//     without it a foreign entry can still be added to a dead domain's p2m after the walk, and is
//     lost with it (the window XSA-410 closed upstream by refusing allocations for dying domains).
// Everything else stays the seed.
//
//   npx checker explore --variant docs/examples/seed-teardown-fixed.ts --depth 5
import type { Variant } from 'xen-foreign-checker';

const variant: Variant = {
  name: 'seed-teardown-fixed',
  base: 'seed',
  description: "seed V6.2 plus a relinquish_p2m_mapping phase: foreign references are dropped during domain_kill",
  overrides: (api) => ({
    relinquishPhases: ['mappings', 'memory'],
    p2mAddForeign(ctx, s, tdom, fgfn, gpfn, fdom) {
      if (s.domains[tdom]!.life !== 'alive') return api.errno.EINVAL; // if ( tdom->is_dying )
      return api.p2m.p2mAddForeignSeed(ctx, s, tdom, fgfn, gpfn, fdom);
    },
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
        // the seed's EPT write puts the old foreign entry's reference
        const rc = ctx.xen.p2mSetEntry(ctx, s, d, gfn, null);
        if (rc !== 0) {
          r.cursor = gfn;
          return rc;
        }
      }
      r.cursor = p2m.length;
      return 0;
    },
  }),
};

export default variant;
