// A build of an earlier commit of this project, to measure against in the same bench run: the
// commit's sources are exported with `git archive` into bench/.baselines/<commit>/ (ignored by git),
// given this project's node_modules and compiled with this project's TypeScript.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The commit the speed targets are measured against (the last release before the explorer's rework). */
export const REFERENCE_COMMIT = '5d05cec';

/** The path of the compiled CLI of `commit`, building it first if needed. */
export function baselineCli(root: string, commit: string): string {
  const sha = execFileSync('git', ['-C', root, 'rev-parse', '--verify', `${commit}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(root, 'bench', '.baselines', sha.slice(0, 12));
  const candidates = [join(dir, 'dist', 'checker', 'cli', 'index.js'), join(dir, 'dist', 'checker', 'cli.js')];
  const built = candidates.find((c) => existsSync(c));
  if (built) return built;
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git -C "${root}" archive "${sha}" | tar -x -C "${dir}"`], { stdio: 'inherit' });
  if (archive.status !== 0) throw new Error(`cannot export commit ${commit}`);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error(`cannot build commit ${commit}`);
  const cli = candidates.find((c) => existsSync(c));
  if (!cli) throw new Error(`commit ${commit} built no checker CLI`);
  return cli;
}
