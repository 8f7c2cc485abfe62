// A trace is data: replay, trace show and export-test never load code a trace names. A trace of a
// variant records the variant's name and the hash of its file; the user passes the file again with
// --variant, and a name or hash that does not match is one line, exit 2.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectUsageError } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-vtrace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MARKER = join(dir, 'the-variant-ran');
const PROP = 'refcount-matches-holders';

// A variant whose loading leaves a mark: if reading a trace ever loads it, the marker appears.
const source = (name: string, extra = '') => `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(MARKER)}, 'loaded');
${extra}
export default { name: ${JSON.stringify(name)}, base: 'xen-4.19', overrides: { relinquishPhases: ['memory'] } };
`;
const variant = join(dir, 'leaky.ts');
const trace = join(dir, 'traces', `${PROP}.itf.json`);

beforeAll(async () => {
  writeFileSync(variant, source('leaky'));
  const r = await cli('explore', '--variant', variant, '--depth', '2', '--invariants', PROP, '--trace-out', join(dir, 'traces'));
  expect(r.status, r.stderr).toBe(12);
  expect(existsSync(MARKER)).toBe(true);
  unlinkSync(MARKER);
});

describe('a trace of a variant', () => {
  it('records the variant by name and hash, never by path', () => {
    const text = readFileSync(trace, 'utf8');
    const cfg = JSON.parse(text)['#meta'].configuration;
    expect(cfg.variant).toEqual({ name: 'leaky', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(text).not.toContain(dir);
  });

  it.each([
    ['replay', ['replay', trace]],
    ['trace show', ['trace', 'show', trace]],
    ['trace export-test', ['trace', 'export-test', trace, '--out', join(dir, 'x.test.ts')]],
  ])('%s without --variant loads nothing and asks for the file', async (_what, args) => {
    expectUsageError(await cli(...args), /the trace is of variant "leaky" \(sha256 [0-9a-f]{12}…\): pass --variant FILE/);
    expect(existsSync(MARKER), 'the variant was loaded').toBe(false);
    expect(existsSync(join(dir, 'x.test.ts'))).toBe(false);
  });

  it('replays with --variant naming the same file', async () => {
    const r = await cli('replay', trace, '--variant', variant);
    expect(r.status, r.stderr).toBe(12);
    expect(r.stdout).toContain('still violated');
    unlinkSync(MARKER);
  });

  it('a variant of another name is refused where the trace must be exactly the one recorded (trace show)', async () => {
    const other = join(dir, 'other.ts');
    writeFileSync(other, source('other'));
    expectUsageError(await cli('trace', 'show', trace, '--variant', other), /is variant "other", but .* is a trace of "leaky"/);
  });

  it('replay with another variant runs the trace under it: a fix of the leak (exit 0), the leak kept (12)', async () => {
    const fixed = join(dir, 'fixed.ts');
    writeFileSync(fixed, `export default { name: 'fixed', base: 'xen-4.19', overrides: {} };\n`);
    const r = await cli('replay', trace, '--variant', fixed);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^fixed by fixed: refcount-matches-holders holds along the whole trace$/m);
    const other = join(dir, 'other.ts');
    writeFileSync(other, source('other'));
    const still = await cli('replay', trace, '--variant', other);
    expect(still.status, still.stderr).toBe(12);
    expect(still.stdout).toMatch(/^still violated under other: refcount-matches-holders at step 2: /m);
    unlinkSync(MARKER); // the variant named on the command line was loaded, as it should be
  });

  it('the same variant, edited since, is refused by its hash', async () => {
    const edited = join(dir, 'edited.ts');
    writeFileSync(edited, source('leaky', '// edited'));
    expectUsageError(await cli('trace', 'show', trace, '--variant', edited), /is not the file .* was made with \(sha256 [0-9a-f]{12}…, the trace records [0-9a-f]{12}…\)/);
  });

  it('a path recorded by an older checker is never loaded either', async () => {
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    t['#meta'].configuration.variant = variant;
    const old = join(dir, 'old.itf.json');
    writeFileSync(old, JSON.stringify(t));
    if (existsSync(MARKER)) unlinkSync(MARKER);
    expectUsageError(await cli('replay', old), /pass --variant FILE/);
    expect(existsSync(MARKER)).toBe(false);
  });

  it('--variant on a trace of no variant: trace show refuses it, replay runs the trace under it', async () => {
    const plain = join(dir, 'plain');
    expect((await cli('explore', '--depth', '2', '--invariants', PROP, '--trace-out', plain)).status).toBe(12);
    expectUsageError(await cli('trace', 'show', join(plain, `${PROP}.itf.json`), '--variant', variant), /is not a trace of a variant/);
    // the seed's leak, under a variant of xen-4.19: the seed trace is not of its version
    const r = await cli('replay', join(plain, `${PROP}.itf.json`), '--variant', variant);
    expectUsageError(r, /variant leaky is based on xen-4.19, not seed/);
    if (existsSync(MARKER)) unlinkSync(MARKER);
  });

  it('the exported test names the variant relative to itself', async () => {
    const out = join(dir, 'leak.test.ts');
    const r = await cli('trace', 'export-test', trace, '--variant', variant, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const src = readFileSync(out, 'utf8');
    expect(src).toContain(`new URL("./leaky.ts", import.meta.url)`);
    expect(src).not.toContain(dir);
  });
});
