/** Exit codes, as TLC's. */
export const EXIT = { ok: 0, internal: 1, usage: 2, limit: 3, violation: 12 } as const;

/** Bad usage or a bad file: one line for the user, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A message for the terminal: on one line, with no control characters (a bad file's bytes, quoted in
 * an error, must not reach the terminal raw) and of a readable length.
 */
export function printable(s: string): string {
  const flat = s.replace(/\r?\n/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/g, (c) => (c === '\ufffd' ? '?' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return flat.length > 2000 ? `${flat.slice(0, 2000)}…` : flat;
}

export { packageRoot, TOOL, TOOL_VERSION } from '../paths.js';
