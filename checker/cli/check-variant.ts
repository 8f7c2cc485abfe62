// `checker check-variant FILE`: a variant (or a --properties file) checked before it is run: the
// TypeScript compiler on it, against the package's published types, then loaded and validated as a
// run would load it. Type errors are the user's, named by file, line and column.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { compiledModule } from '../paths.js';
import { loadProperties, loadVariant } from '../xen-model.js';
import { UsageError } from './common.js';

export interface CheckVariantFlags {
  properties?: boolean;
  xen?: string;
}

/** At most this many type errors are printed (the count says how many there are). */
const MAX_ERRORS = 20;

export async function runCheckVariant(file: string, f: CheckVariantFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`check-variant: ${file} does not exist`);
  const errors = await typeErrors(path);
  if (errors.length > 0) {
    for (const e of errors.slice(0, MAX_ERRORS)) err(`${e}\n`);
    throw new UsageError(`check-variant: ${file} has ${errors.length} type error${errors.length === 1 ? '' : 's'}${errors.length > MAX_ERRORS ? ` (the first ${MAX_ERRORS} above)` : ' (above)'}`);
  }
  if (f.properties) {
    const p = await loadProperties(file);
    out(`${file}: type-checks; ${p.invariants.length} invariant(s) (${p.invariants.map((i) => i.name).join(', ') || 'none'}), ${p.witnesses.length} witness(es) (${p.witnesses.map((w) => w.name).join(', ') || 'none'})\n`);
    return 0;
  }
  const v = await loadVariant(file, f.xen);
  const lines = [`${file}: type-checks and loads: variant ${v.variant.name}, on ${v.version}${v.variant.appliesTo?.length ? ` (applies to ${[v.variant.base, ...v.variant.appliesTo].join(', ')})` : ''}`];
  const names = Object.keys(v.calls());
  lines.push(`  overrides: ${names.length ? names.join(', ') : 'none (the base version as it is)'}`);
  const r = v.requires;
  const req = [
    r.ops?.length ? `ops ${r.ops.join(', ')}` : '',
    r.backend ? `backend ${r.backend}` : '',
    r.preemptibleTeardown ? 'preemptible teardown' : '',
    r.superpages ? 'superpages' : '',
    r.build ? `build ${r.build}` : '',
    r.domains ? `domains ${r.domains}` : '',
  ].filter((x) => x !== '');
  lines.push(`  requires: ${req.length ? req.join('; ') : 'nothing beyond the default universe'}`);
  lines.push(`  final teardown puts foreign references: ${v.xen.finalTeardownReleasesForeign ? 'yes' : 'no'} (read off its p2mTeardown)`);
  const p = v.properties;
  if (p.invariants.length + p.witnesses.length > 0) {
    lines.push(`  properties: ${[...p.invariants.map((i) => `invariant ${i.name}`), ...p.witnesses.map((w) => `witness ${w.name}`)].join(', ')}`);
  }
  lines.push(`next: checker explore --variant ${file} --coverage`);
  out(lines.join('\n') + '\n');
  return 0;
}

/**
 * The TypeScript compiler's errors in the file, as "file:line:col: message": strict, with
 * 'xen-foreign-checker' resolved to the package's published types wherever the file is.
 */
async function typeErrors(path: string): Promise<string[]> {
  const ts = (await import('typescript')).default;
  const types = compiledModule('public.d.ts');
  if (!existsSync(types)) throw new UsageError('check-variant needs the compiled checker (npm run build)');
  const options: import('typescript').CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    paths: { 'xen-foreign-checker': [types] },
  };
  const program = ts.createProgram([path], options);
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics(), ...program.getOptionsDiagnostics()];
  const cwd = process.cwd();
  return diagnostics
    .filter((d) => d.file === undefined || resolve(d.file.fileName) === path || !d.file.fileName.includes('node_modules'))
    .map((d) => {
      const msg = compact(d.messageText);
      if (!d.file || d.start === undefined) return `${relative(cwd, path) || path}: ${msg}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      const name = relative(cwd, d.file.fileName) || d.file.fileName;
      return `${name}:${line + 1}:${character + 1}: ${msg}`;
    });
}

/** A diagnostic's chain of messages as one readable line: the most specific reason, where it came from. */
function compact(m: string | import('typescript').DiagnosticMessageChain): string {
  if (typeof m === 'string') return m;
  let leaf = m;
  while (leaf.next && leaf.next.length > 0) leaf = leaf.next[0]!;
  const cut = (t: string) => (t.length > 160 ? `${t.slice(0, 157)}...` : t);
  return leaf === m ? cut(m.messageText) : `${cut(leaf.messageText)} (in: ${cut(m.messageText)})`;
}
