// Where the package is, and what it is: a leaf module every part of checker/ may import.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root: from checker/ (sources) or dist/checker/ (built), the first package.json upwards. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const TOOL_VERSION = packageVersion();
export const TOOL = `checker ${TOOL_VERSION}`;

/** A compiled module of the checker (worker threads run JavaScript): dist/checker/<rel>. */
export function compiledModule(rel: string): string {
  return join(packageRoot(), 'dist', 'checker', rel);
}
