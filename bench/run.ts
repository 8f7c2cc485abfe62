// npm run bench: throughput and memory of the explorer, side by side with the naive baseline.
//   npm run bench                 the default universe (depth 7), the baseline at depth 6, the large universe
//   npm run bench -- --quick      smaller bounds (a minute or two in all)
// The large universe at depth 5 is also the memory run (about 8M states).
//
// Every explorer run is a fresh `checker explore --json` process: a run that follows another in one
// process inherits its heap (a second one-worker run in one process was 1.6x slower than the first),
// which would bias the comparisons. The naive baseline runs in this process, alone.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeUniverse } from '../model/index.js';
import { naiveExplore } from './naive.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const CLI = fileURLToPath(new URL('../checker/cli/index.js', import.meta.url));

interface Run {
  distinct: number;
  generated: number;
  elapsedMs: number;
  visitedBytes: number;
  peakRssBytes: number;
}

/** One `checker explore` in its own process. */
function explore(label: string, flags: string[], depth: number): Run {
  const p = spawnSync(process.execPath, [CLI, 'explore', ...flags, '--depth', String(depth), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0 && p.status !== 12) throw new Error(`checker explore ${flags.join(' ')} exited ${p.status}: ${p.stderr}`);
  const j = JSON.parse(p.stdout);
  const r: Run = { distinct: j.totals.distinct, generated: j.totals.generated, elapsedMs: j.elapsedMs, visitedBytes: j.visitedBytes, peakRssBytes: j.peakRssBytes };
  const secs = r.elapsedMs / 1000;
  console.log(
    `${label}: depth ${depth}, ${n(r.distinct)} distinct, ${n(r.generated)} generated in ${secs.toFixed(2)} s: ` +
      `${n(r.distinct / secs)} distinct/s, ${n(r.generated / secs)} generated/s; ` +
      `${(r.visitedBytes / r.distinct).toFixed(1)} bytes/state in the visited set and links; peak RSS ${n(r.peakRssBytes / 2 ** 20)} MiB`,
  );
  return r;
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, ${n(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
const dflt = ['--version', 'seed', '--backend', 'ept'];
explore('explorer, seed/ept default universe', dflt, quick ? 6 : 7);

const baseDepth = quick ? 5 : 6;
const mine = explore('explorer, seed/ept default universe', dflt, baseDepth);
const naive = naiveExplore(makeUniverse({ version: 'seed', backend: 'ept' }), baseDepth);
const ns = naive.elapsedMs / 1000;
console.log(
  `naive baseline (immer + JSON.stringify + Set<string>), seed/ept: depth ${baseDepth}, ${n(naive.distinct)} distinct, ${n(naive.generated)} generated in ${ns.toFixed(2)} s: ` +
    `${n(naive.distinct / ns)} distinct/s, ${n(naive.generated / ns)} generated/s`,
);
if (naive.distinct !== mine.distinct) console.log(`  MISMATCH: the baseline found ${naive.distinct} states, the explorer ${mine.distinct}`);
console.log(`ratio explorer / baseline: ${(naive.elapsedMs / mine.elapsedMs).toFixed(1)}x (same ${n(mine.distinct)} states)`);

const large = [...dflt, '--domains', 'dom0:pvh:hw,dom1:pvh,dom2:hvm,dom3:hvm', '--gfns', '3'];
const largeDepth = quick ? 4 : 5;
const label = 'explorer, seed/ept large universe (4 domains, 3 gfns)';
// This machine's speed drifts (neighbours on the host): up to 2x over minutes. The runs go one
// worker, two, two, one: drift that is linear over the four cancels in the ratio of the sums.
const oneA = explore(`${label}, 1 worker`, large, largeDepth);
if (oneA.distinct >= 5_000_000) {
  console.log(
    `memory (a run of ${n(oneA.distinct)} states): ${(oneA.visitedBytes / oneA.distinct).toFixed(1)} bytes/state in the visited set and links, ` +
      `peak RSS ${(oneA.peakRssBytes / oneA.distinct).toFixed(1)} bytes/state (the level's frontier included)`,
  );
}
const twoA = explore(`${label}, 2 workers`, [...large, '--workers', '2'], largeDepth);
const twoB = explore(`${label}, 2 workers`, [...large, '--workers', '2'], largeDepth);
const oneB = explore(`${label}, 1 worker`, large, largeDepth);
for (const r of [twoA, twoB, oneB]) if (r.distinct !== oneA.distinct) console.log(`  MISMATCH: ${r.distinct} states, not ${oneA.distinct}`);
const ones = oneA.elapsedMs + oneB.elapsedMs;
const twos = twoA.elapsedMs + twoB.elapsedMs;
console.log(
  `2 workers / 1 worker on the large universe: ${(ones / twos).toFixed(2)}x ` +
    `(ratio of the sums of the one, two, two, one runs; pairs ${(oneA.elapsedMs / twoA.elapsedMs).toFixed(2)}x and ${(oneB.elapsedMs / twoB.elapsedMs).toFixed(2)}x)`,
);
