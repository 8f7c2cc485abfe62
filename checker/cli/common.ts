import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exit codes, as TLC's. */
export const EXIT = { ok: 0, internal: 1, usage: 2, limit: 3, violation: 12 } as const;

/** Bad usage or a bad file: one line for the user, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The project's root: from checker/cli/ (sources) or dist/checker/cli/ (built), the first package.json upwards. */
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
