import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exit codes, as TLC's. */
export const EXIT = { ok: 0, internal: 1, usage: 2, limit: 3, violation: 12 } as const;

/** Bad usage or a bad file: one line for the user, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function findPackageJson(): { version: string } {
  // From checker/cli/ (sources) or dist/checker/cli/ (built): the first package.json upwards.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as { version: string };
    const up = dirname(dir);
    if (up === dir) return { version: 'unknown' };
    dir = up;
  }
}

export const TOOL_VERSION = findPackageJson().version;
export const TOOL = `checker ${TOOL_VERSION}`;
