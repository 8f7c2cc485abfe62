// Loads a --variant file: TypeScript (or JavaScript) compiled at run time by tsx.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { variantTable, VariantError, type Variant, type XenFunctions } from '../../model/index.js';

export async function loadVariant(file: string): Promise<{ variant: Variant; xen: XenFunctions }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new VariantError(`--variant: ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  } catch (e) {
    const first = String((e as Error).message ?? e).split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
    throw new VariantError(`--variant: ${file} does not load: ${first.trim()}`);
  }
  let v = mod.default ?? mod.variant;
  // A CommonJS-style double default (tsx may wrap `export default` of a .ts file once more).
  if (v && typeof v === 'object' && 'default' in (v as object) && !('base' in (v as object))) v = (v as { default: unknown }).default;
  // (a module without a default export may still come back as its namespace, wrapped by the loader)
  const looksLikeVariant = typeof v === 'object' && v !== null && ['name', 'base', 'overrides'].some((k) => k in (v as object));
  if (!looksLikeVariant) throw new VariantError(`--variant: ${file} has no default export (export default { name, base, overrides })`);
  return variantTable(v, `--variant: ${file}`);
}
