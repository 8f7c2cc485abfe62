// npm run bench: throughput and memory of the explorer, side by side with the naive baseline.
//   npm run bench                 the default universe (depth 7), the baseline at depth 6, the large universe
//   npm run bench -- --quick      smaller bounds (a minute in all)
//   npm run bench -- --memory     adds a run of at least 5M states for bytes per state and peak RSS
import { cpus, totalmem } from 'node:os';
import { explore } from '../checker/engine.js';
import { wire } from '../checker/cli/wiring.js';
import { makeUniverse, type UniverseOptions } from '../model/index.js';
import { naiveExplore } from './naive.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const memory = args.includes('--memory');
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

const large: UniverseOptions = { version: 'seed', backend: 'ept', domains: 'dom0:pvh:hw,dom1:pvh,dom2:hvm,dom3:hvm', gfns: 3 };
run('explorer, seed/ept large universe (4 domains, 3 gfns)', large, quick ? 4 : 5);

if (memory) {
  const r = run('explorer, memory run, large universe', large, 6);
  console.log(`memory run: ${n(r.distinct)} states, ${(r.visitedBytes / r.distinct).toFixed(1)} bytes/state (structures), ${(r.peakRssBytes / r.distinct).toFixed(1)} bytes/state (peak RSS / states)`);
}
