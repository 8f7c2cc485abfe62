// The regression matrix's schema. A matrix is read once, and a typo in it ("verison") must not
// silently run the seed and, with --update, record that as the expectation: unknown keys, wrong types
// and impossible values are refused, naming the entry and the field. zod checks the file and gives
// the TypeScript types from the same declaration, so the two cannot drift apart.
import { z } from 'zod';

const count = z.number().int().min(0);

export const ExpectationsSchema = z.strictObject({
  distinct: count,
  /** Every violated invariant with its shortest depth; any other invariant must hold. */
  violations: z.record(z.string(), count),
  /** Every reached witness with its depth; any other must stay unreached. */
  witnesses: z.record(z.string(), count),
});

/**
 * A finding of docs/findings.md that an entry pins (its id names the section): in an `affected` entry
 * the invariant is violated (the version has the bug), in an `unaffected` one it holds (a version
 * before the bug came in, the fixed one, or a variant with a proposed fix).
 */
export const FindingSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a finding id is lower case, digits, dots and dashes'),
  role: z.enum(['affected', 'unaffected']),
  invariant: z.string().min(1),
});

export const EntrySchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().optional(),
  backend: z.string().optional(),
  domains: z.string().optional(),
  gfns: z.number().int().min(1).optional(),
  spareFrames: count.optional(),
  ops: z.array(z.string()).min(1).optional(),
  preemptibleTeardown: z.boolean().optional(),
  destroyableDom0: z.boolean().optional(),
  build: z.enum(['debug', 'release']).optional(),
  superpages: z.boolean().optional(),
  granularity: z.enum(['atomic', 'steps']).optional(),
  vcpus: z.number().int().min(1).max(4).optional(),
  mutant: z.string().optional(),
  /** A --variant file, relative to the matrix file. */
  variant: z.string().min(1).optional(),
  depth: count,
  expect: ExpectationsSchema.optional(),
  findings: z.array(FindingSchema).min(1).optional(),
});

export const MatrixSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  entries: z.array(EntrySchema),
});

export type Expectations = z.infer<typeof ExpectationsSchema>;
export type Finding = z.infer<typeof FindingSchema>;
export type MatrixEntry = z.infer<typeof EntrySchema>;
export type MatrixFile = z.infer<typeof MatrixSchema>;

const ENTRY_KEYS = Object.keys(EntrySchema.shape);
const TOP_KEYS = Object.keys(MatrixSchema.shape);

/** The first problem of a matrix that does not fit the schema, as one line naming the entry and field; null when it fits. */
export function matrixProblem(v: unknown): string | null {
  const r = MatrixSchema.safeParse(v);
  if (r.success) return findingsProblem(r.data);
  // a misspelt key is the likelier cause of a missing one: name it first
  const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
  const path = issue.path;
  const entries = (v as { entries?: unknown[] } | null)?.entries;
  let where = 'the matrix';
  let rest = path;
  if (path[0] === 'entries' && typeof path[1] === 'number') {
    const e = Array.isArray(entries) ? (entries[path[1]] as { name?: unknown } | undefined) : undefined;
    where = typeof e?.name === 'string' && e.name !== '' ? `entry "${e.name}" (entries[${path[1]}])` : `entries[${path[1]}]`;
    rest = path.slice(2);
  }
  const field = rest.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
  let what: string;
  if (issue.code === 'unrecognized_keys') {
    const known = rest.length === 0 && where !== 'the matrix' ? ENTRY_KEYS : rest.length === 0 ? TOP_KEYS : null;
    what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${known ? `; known: ${known.join(', ')}` : ''}`;
  } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    what = `"${field}" is missing`;
  } else {
    what = `"${field}": ${issue.message.replace(/^Invalid input: /, '')}`;
  }
  return `${where}: ${what}`;
}

/**
 * A finding pinned on one side only proves half of it: for each finding id and invariant there must
 * be an entry where it is violated and one where it holds.
 */
function findingsProblem(m: MatrixFile): string | null {
  const roles = new Map<string, { affected: boolean; unaffected: boolean }>();
  for (const e of m.entries) {
    for (const f of e.findings ?? []) {
      const key = `${f.id} on ${f.invariant}`;
      const r = roles.get(key) ?? { affected: false, unaffected: false };
      r[f.role] = true;
      roles.set(key, r);
    }
  }
  for (const [key, r] of roles) {
    if (!r.affected) return `finding ${key}: no entry where it is violated (role "affected")`;
    if (!r.unaffected) return `finding ${key}: no entry where it holds (role "unaffected")`;
  }
  return null;
}
