/** Exit codes, as TLC's. */
export const EXIT = { ok: 0, internal: 1, usage: 2, limit: 3, violation: 12 } as const;

/** Bad usage or a bad file: one line for the user, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export { packageRoot, TOOL, TOOL_VERSION } from '../paths.js';
