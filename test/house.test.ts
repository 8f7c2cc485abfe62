// The house (README's layout): the engine is generic, and arrows between the rooms point one way.
// A file that imports against them fails here, naming the file and the import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli-run.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a file, resolved to a path under the project's root. */
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g)) {
    out.push(relative(ROOT, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Which room a path is in. */
function room(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'checker' && parts.length > 2) return `checker/${parts[1]}`;
  if (parts[0] === 'checker') return path.replace(/\.ts$/, '');
  return parts[0]!;
}

// What each room may import (besides itself). checker/paths is a leaf anyone may use.
const ALLOWED: Record<string, string[]> = {
  model: [],
  invariants: ['model'],
  'checker/engine': [],
  'checker/paths': [],
  'checker/xen-model': ['checker/engine', 'model', 'invariants', 'checker/paths'],
  'checker/trace': ['checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
  'checker/check': ['checker/trace', 'checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
  // the package's public entry (xen-foreign-checker): types, and what exported tests call
  'checker/public': ['checker/trace', 'checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
  'checker/regress': ['checker/check', 'checker/trace', 'checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
  'checker/serve': ['checker/check', 'checker/trace', 'checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
  'checker/cli': ['checker/serve', 'checker/regress', 'checker/check', 'checker/trace', 'checker/xen-model', 'checker/engine', 'model', 'invariants', 'checker/paths'],
};

describe('the house', () => {
  const files = ['model', 'invariants', 'checker'].flatMap((d) => tsFiles(join(ROOT, d))).map((f) => relative(ROOT, f));

  it('every source file is in a room of the house', () => {
    for (const f of files) expect(Object.keys(ALLOWED), f).toContain(room(f));
  });

  it('checker/engine imports nothing from model/, invariants/ or the rest of checker/', () => {
    const bad = files.filter((f) => room(f) === 'checker/engine').flatMap((f) => imports(join(ROOT, f)).filter((i) => room(i) !== 'checker/engine').map((i) => `${f} imports ${i}`));
    expect(bad).toEqual([]);
  });

  it('arrows point one way: cli → regress → check → trace → xen-model → (engine, model, invariants), invariants → model', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = room(f);
      for (const i of imports(join(ROOT, f))) {
        const to = room(i);
        if (to !== from && !ALLOWED[from]!.includes(to)) bad.push(`${f} (${from}) imports ${i} (${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the import scanner sees imports (else the rules above would pass vacuously)', () => {
    expect(imports(join(ROOT, 'checker/engine/bfs.ts'))).toContain('checker/engine/expand.ts');
    expect(imports(join(ROOT, 'checker/xen-model.ts'))).toEqual(expect.arrayContaining(['model/index.ts', 'invariants/index.ts']));
    expect(imports(join(ROOT, 'invariants/index.ts')).map(room)).toContain('model');
  });
});
