// Exit-code precedence, as TLC's: a violation found wins over a stop (12, not 3). The README and
// --help say so, and the JSON report says both: that the run stopped, and every verdict with the
// depth to which the invariant was checked in full.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../checker/cli/common.js';
import { cli, json, ROOT } from './cli-run.js';

describe('a run stopped by a limit after a violation', () => {
  it('exits 12, and the JSON says stopped, every verdict and to which depth each invariant holds', async () => {
    const r = await cli('explore', '--depth', '6', '--max-states', '2000', '--json');
    expect(r.status, r.stderr).toBe(12);
    const j = json(r);
    expect(j.stopped).toBe('max-states');
    const last = j.levels.at(-1);
    const complete = last.complete ? last.depth : last.depth - 1;
    for (const p of j.properties.filter((x: any) => x.kind === 'invariant')) {
      if (p.verdict === 'violated') expect(p.holdsToDepth, p.name).toBe(p.depth - 1);
      else expect(p.holdsToDepth, p.name).toBe(complete);
    }
    expect(j.properties.some((p: any) => p.verdict === 'violated')).toBe(true);
  });

  it('the text report says why it exits 12 though it stopped', async () => {
    const r = await cli('explore', '--depth', '6', '--max-states', '2000');
    expect(r.status).toBe(12);
    expect(r.stdout).toMatch(/stopped by --max-states before the bound: partial result/);
    expect(r.stdout).toMatch(/exit 12: a violation was found before the stop \(a violation wins over a limit\)/);
  });
});

describe('the exit codes are documented as they are', () => {
  it('README has a row for every exit code, and says a violation wins over a stop', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.values(EXIT)) expect(readme, `exit ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
    expect(readme).toMatch(/^\| 12 \|.*a violation wins over a stop/m);
  });

  it('explore --help says a violation wins', async () => {
    const r = await cli('explore', '--help');
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/12 an invariant violated \(also when a limit stopped the run after it: a violation wins\); 3 stopped by a limit or Ctrl-C/);
  });
});
