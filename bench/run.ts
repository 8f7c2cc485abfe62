// npm run bench: throughput and memory of the explorer, side by side with the naive baseline.
//   npm run bench                 the default universe (depth 7), the baseline at depth 6, the large universe
//   npm run bench -- --quick      smaller bounds (a minute in all)
// The large universe at depth 5 is also the memory run (about 8M states).
import { cpus, totalmem } from 'node:os';
import { explore } from '../checker/engine.js';
import { wire } from '../checker/cli/wiring.js';
import { makeUniverse, type UniverseOptions } from '../model/index.js';
import { naiveExplore } from './naive.js';
import { exploreParallel } from '../checker/parallel.js';
import { specFor } from '../checker/cli/model-spec.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const n = (x: number) => Math.round(x).toLocaleString('en-US');

function run(label: string, o: UniverseOptions, depth: number) {
  const u = makeUniverse(o);
  const w = wire(u);
  const r = explore(w.model, { maxDepth: depth });
  const secs = r.elapsedMs / 1000;
  console.log(
    `${label}: depth ${depth}, ${n(r.distinct)} distinct, ${n(r.generated)} generated in ${secs.toFixed(2)} s: ` +
      `${n(r.distinct / secs)} distinct/s, ${n(r.generated / secs)} generated/s; ` +
      `${(r.visitedBytes / r.distinct).toFixed(1)} bytes/state in the visited set and links; peak RSS ${n(r.peakRssBytes / 2 ** 20)} MiB`,
  );
  return r;
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, ${n(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
const dflt: UniverseOptions = { version: 'seed', backend: 'ept' };
const deep = quick ? 6 : 7;
run('explorer, seed/ept default universe', dflt, deep);

const baseDepth = quick ? 5 : 6;
const mine = run('explorer, seed/ept default universe', dflt, baseDepth);
const naive = naiveExplore(makeUniverse(dflt), baseDepth);
const ns = naive.elapsedMs / 1000;
console.log(
  `naive baseline (immer + JSON.stringify + Set<string>), seed/ept: depth ${baseDepth}, ${n(naive.distinct)} distinct, ${n(naive.generated)} generated in ${ns.toFixed(2)} s: ` +
    `${n(naive.distinct / ns)} distinct/s, ${n(naive.generated / ns)} generated/s`,
);
if (naive.distinct !== mine.distinct) console.log(`  MISMATCH: the baseline found ${naive.distinct} states, the explorer ${mine.distinct}`);
console.log(`ratio explorer / baseline: ${(naive.elapsedMs / mine.elapsedMs).toFixed(1)}x (same ${n(mine.distinct)} states)`);

const largeFlags = { version: 'seed', backend: 'ept', domains: 'dom0:pvh:hw,dom1:pvh,dom2:hvm,dom3:hvm', gfns: '3' };
const large: UniverseOptions = { ...largeFlags, gfns: 3 };
const largeDepth = quick ? 4 : 5;
const one = run('explorer, seed/ept large universe (4 domains, 3 gfns), 1 worker', large, largeDepth);
if (one.distinct >= 5_000_000) {
  console.log(`memory (a run of ${n(one.distinct)} states): ${(one.visitedBytes / one.distinct).toFixed(1)} bytes/state in the visited set and links, peak RSS ${(one.peakRssBytes / one.distinct).toFixed(1)} bytes/state (the level's frontier included)`);
}

const w2 = await exploreParallel(wire(makeUniverse(large)).model, specFor(largeFlags), 2, { maxDepth: largeDepth });
const secs2 = w2.elapsedMs / 1000;
console.log(
  `explorer, seed/ept large universe, 2 workers: depth ${largeDepth}, ${n(w2.distinct)} distinct in ${secs2.toFixed(2)} s: ${n(w2.distinct / secs2)} distinct/s; ` +
    `${(one.elapsedMs / w2.elapsedMs).toFixed(2)}x the one-worker run` + (w2.distinct === one.distinct ? '' : ` MISMATCH (${w2.distinct} vs ${one.distinct})`),
);

