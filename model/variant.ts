// A user's own version: a module that overrides named Xen functions of a base version, loaded with
// `checker explore --variant ./my-patch.ts`. This file is the documented, typed surface.
//
//   import type { Variant } from '<checker>/model/variant.js';
//   const variant: Variant = {
//     name: 'my-fix',
//     base: 'seed',
//     description: 'what the patch changes',
//     overrides: (api) => ({
//       relinquishP2mMapping: api.versions['xen-4.19'].relinquishP2mMapping,
//       relinquishPhases: ['mappings', 'memory'],
//     }),
//   };
//   export default variant;
//
// Every override has the signature of the XenFunctions entry it replaces (model/xen.ts): it takes
// the context (`ctx.u` the universe, `ctx.xen` the table in force: call other functions through it),
// the state to mutate and the C's arguments, and returns 0 or a negative errno.
import * as domain from './domain.js';
import * as memory from './memory.js';
import * as page from './page.js';
import * as p2m from './p2m.js';
import * as p2mTypes from './p2m/types.js';
import { bug } from './fault.js';
import * as types from './types.js';
import { VERSIONS, type Version } from './types.js';
import { VERSION_TABLES } from './versions.js';
import type { XenFunctionName, XenFunctions } from './xen.js';

/** What a variant may override: every named Xen function, and the two teardown properties. */
export type Overrides = Partial<Pick<XenFunctions, XenFunctionName | 'finalTeardownReleasesForeign' | 'relinquishPhases'>>;

/** The building blocks a variant can reuse: every version's table and the model's primitives. */
export interface VariantApi {
  versions: typeof VERSION_TABLES;
  page: typeof page;
  p2m: typeof p2m;
  p2mTypes: typeof p2mTypes;
  memory: typeof memory;
  domain: typeof domain;
  errno: Pick<typeof types, 'EPERM' | 'ENOENT' | 'ESRCH' | 'ENXIO' | 'ENOMEM' | 'EBUSY' | 'EEXIST' | 'EINVAL' | 'EILSEQ' | 'ERESTART'>;
  /** Raise a hypervisor fault (BUG_ON / ASSERT). */
  bug: typeof bug;
}

export interface Variant {
  name: string;
  base: Version;
  description?: string;
  overrides: Overrides | ((api: VariantApi) => Overrides);
}

export const VARIANT_API: VariantApi = {
  versions: VERSION_TABLES,
  page,
  p2m,
  p2mTypes,
  memory,
  domain,
  errno: {
    EPERM: types.EPERM,
    ENOENT: types.ENOENT,
    ESRCH: types.ESRCH,
    ENXIO: types.ENXIO,
    ENOMEM: types.ENOMEM,
    EBUSY: types.EBUSY,
    EEXIST: types.EEXIST,
    EINVAL: types.EINVAL,
    EILSEQ: types.EILSEQ,
    ERESTART: types.ERESTART,
  },
  bug,
};

/** The names a variant may override, with what each is. */
export function overridableNames(): string[] {
  return Object.keys(VERSION_TABLES.seed).filter((k) => k !== 'version');
}

export class VariantError extends Error {
  override name = 'VariantError';
}

/** Checks a loaded module's export and builds the function table it describes. */
export function variantTable(v: unknown, where: string): { variant: Variant; xen: XenFunctions } {
  if (typeof v !== 'object' || v === null) {
    throw new VariantError(`${where}: the default export must be a variant object { name, base, overrides }`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') throw new VariantError(`${where}: the variant needs a "name" (a string)`);
  if (!(VERSIONS as readonly unknown[]).includes(o.base)) {
    throw new VariantError(`${where}: "base" must be one of ${VERSIONS.join(', ')} (got ${JSON.stringify(o.base)})`);
  }
  const base = VERSION_TABLES[o.base as Version];
  let overrides: unknown = o.overrides;
  if (typeof overrides === 'function') overrides = (overrides as (api: VariantApi) => unknown)(VARIANT_API);
  if (typeof overrides !== 'object' || overrides === null) {
    throw new VariantError(`${where}: "overrides" must be an object of functions, or a function (api) => object`);
  }
  const allowed = overridableNames();
  for (const [k, val] of Object.entries(overrides)) {
    if (!allowed.includes(k)) {
      throw new VariantError(`${where}: overrides "${k}", which is not a Xen function of the model; overridable: ${allowed.join(', ')}`);
    }
    const want = typeof (base as unknown as Record<string, unknown>)[k];
    if (typeof val !== want) throw new VariantError(`${where}: override "${k}" must be a ${want}, not a ${typeof val}`);
  }
  const variant = o as unknown as Variant;
  return { variant, xen: { ...base, ...(overrides as Overrides), version: `${variant.base}+${variant.name}` } };
}
