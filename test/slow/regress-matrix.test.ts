// The whole regression matrix through the built CLI, with JUnit XML (npm run test:slow).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliWithin, ROOT } from '../cli-run.js';

const run = (...args: string[]) => cliWithin(600_000, args);

const MATRIX = join(ROOT, 'checker', 'regress', 'matrix.json');
const dir = mkdtempSync(join(tmpdir(), 'checker-regress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the regression matrix, whole', () => {
  const matrix = JSON.parse(readFileSync(MATRIX, 'utf8')) as { entries: unknown[] };
  it('checker regress: every entry as expected, JUnit XML without failures', async () => {
    const junit = join(dir, 'ok.xml');
    const r = await run('regress', '--junit', junit, '--json');
    expect(r.status, r.stdout.slice(0, 4000)).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.totals).toMatchObject({ failed: 0, errors: 0 });
    expect(j.entries).toHaveLength(matrix.entries.length);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${matrix.entries.length}" failures="0"`);
  });

});
