// Every command of README's "Checking a patch of your own" loop, run as written (npx checker → the
// built CLI), in a folder of its own, with the outcome the README promises.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliIn, ROOT } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'checker-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The commands of the README's loop, in order. */
function loopCommands(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('The loop, from the patch'), readme.indexOf('- `check-variant` runs'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npx checker '))
    .map((l) => l.slice('npx checker '.length).split(/\s+/).map((a) => (a.startsWith('docs/') ? join(ROOT, a) : a)));
}

describe("README: the patch author's loop", () => {
  it('has the five steps, each answering as the README says', async () => {
    const cmds = loopCommands();
    expect(cmds.map((c) => c[0])).toEqual(['check-variant', 'explore', 'explore', 'replay', 'trace']);
    const want = [0, 0, 12, 0, 0]; // the fixed variant holds; the seed leaks; replay: fixed
    for (let k = 0; k < cmds.length; k++) {
      const r = await cliIn(dir, 120_000, cmds[k]!);
      expect(r.status, `checker ${cmds[k]!.join(' ')}\n${r.stderr}`).toBe(want[k]);
      if (cmds[k]![0] === 'explore' && cmds[k]!.includes('--coverage')) expect(r.stdout).toMatch(/coverage: Xen functions/);
      if (cmds[k]![0] === 'replay') expect(r.stdout).toMatch(/^fixed by seed-teardown-fixed/m);
    }
    expect(existsSync(join(dir, 'leak-fixed.test.ts'))).toBe(true);
  }, 180_000);
});
