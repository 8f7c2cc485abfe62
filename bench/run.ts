// npm run bench: throughput and memory of the explorer, side by side with a naive baseline and with a
// build of the reference commit (bench/baseline.ts), in one run.
//   npm run bench                      every section
//   npm run bench -- --quick           smaller bounds (a few minutes in all)
//   npm run bench -- --only compare    the speed targets: one and two workers against 5d05cec, depth 9 (about 20 minutes)
//   npm run bench -- --only SECTION    one section: compare, instructions, default, naive, workers, steps
//
// Every explorer run is a fresh `checker explore --json` process: a run that follows another in one
// process inherits its heap (a second one-worker run in one process was 1.6x slower than the first),
// which would bias the comparisons. The naive baseline runs in this process, alone. This machine's
// speed drifts (neighbours on the host, up to 2x over minutes): comparisons alternate their runs and
// report medians and ratios, never a single pair.
import { spawn, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeUniverse } from '../model/index.js';
import { baselineCli, REFERENCE_COMMIT } from './baseline.js';
import { naiveExplore } from './naive.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const want = (section: string) => only === undefined || only === section;
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const CLI = fileURLToPath(new URL('../checker/cli/index.js', import.meta.url));
const ROOT = join(dirname(CLI), '..', '..', '..');

interface Run {
  distinct: number;
  generated: number;
  elapsedMs: number;
  visitedBytes: number;
  peakRssBytes: number;
}

/** One `checker explore` in its own process. */
function exploreWith(cli: string, flags: string[], depth: number): Run {
  const p = spawnSync(process.execPath, [cli, 'explore', ...flags, '--depth', String(depth), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0 && p.status !== 12) throw new Error(`checker explore ${flags.join(' ')} exited ${p.status}: ${p.stderr}`);
  const j = JSON.parse(p.stdout);
  return { distinct: j.totals.distinct, generated: j.totals.generated, elapsedMs: j.elapsedMs, visitedBytes: j.visitedBytes, peakRssBytes: j.peakRssBytes };
}

function describe(label: string, depth: number, r: Run): void {
  const secs = r.elapsedMs / 1000;
  console.log(
    `${label}: depth ${depth}, ${n(r.distinct)} distinct, ${n(r.generated)} generated in ${secs.toFixed(2)} s: ` +
      `${n(r.distinct / secs)} distinct/s, ${n(r.generated / secs)} generated/s; ` +
      `${(r.visitedBytes / r.distinct).toFixed(1)} bytes/state in the visited set and links; peak RSS ${n(r.peakRssBytes / 2 ** 20)} MiB ` +
      `(${(r.peakRssBytes / r.distinct).toFixed(1)} bytes/state)`,
  );
}

function explore(label: string, flags: string[], depth: number): Run {
  const r = exploreWith(CLI, flags, depth);
  describe(label, depth, r);
  return r;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * This build against another, alternating (A B B A A B ...: drift that is linear over a pair cancels),
 * `pairs` runs each; the ratio of the median throughputs, and the check that both found the same states.
 * Returns the ratio and this build's median peak RSS per state.
 */
function compare(label: string, other: { name: string; cli: string; flags: string[] }, mine: string[], depth: number, pairs: number): { ratio: number; bytesPerState: number } {
  const a: Run[] = [];
  const b: Run[] = [];
  for (let k = 0; k < pairs; k++) {
    const order = k % 2 === 0 ? ['this', 'other'] : ['other', 'this'];
    for (const who of order) {
      if (who === 'this') a.push(exploreWith(CLI, mine, depth));
      else b.push(exploreWith(other.cli, other.flags, depth));
    }
  }
  const rate = (r: Run) => r.distinct / (r.elapsedMs / 1000);
  const ra = a.map(rate);
  const rb = b.map(rate);
  const ratio = median(ra) / median(rb);
  const bytesPerState = median(a.map((r) => r.peakRssBytes / r.distinct));
  const cmd = (flags: string[]) => `checker explore ${[...flags, '--depth', String(depth), '--json'].join(' ')}`;
  console.log(`${label}, depth ${depth}, ${pairs} runs each, alternating (this build: ${cmd(mine)}; ${other.name}: ${cmd(other.flags)}):`);
  console.log(`  this build:   ${ra.map(n).join(', ')} distinct/s; median ${n(median(ra))}; peak RSS median ${n(median(a.map((r) => r.peakRssBytes)) / 2 ** 20)} MiB (${bytesPerState.toFixed(1)} bytes/state)`);
  console.log(`  ${other.name.padEnd(12)}  ${rb.map(n).join(', ')} distinct/s; median ${n(median(rb))}; peak RSS median ${n(median(b.map((r) => r.peakRssBytes)) / 2 ** 20)} MiB`);
  console.log(`  ratio this / ${other.name}: ${ratio.toFixed(3)}x (medians); per pair ${ra.map((x, i) => (x / rb[i]!).toFixed(3)).join(', ')}`);
  // Each build must find the same states in every run. Against 5d05cec the counts differ: model
  // revision 4 came after it (7,575,832 states at depth 9 against 7,368,689), so the throughputs
  // compare two builds doing the same kind of work on state spaces within 3% of each other.
  for (const [who, runs] of [['this build', a], [other.name, b]] as const) {
    const counts = new Set(runs.map((r) => r.distinct));
    if (counts.size !== 1) console.log(`  MISMATCH: ${who}'s runs found different numbers of states: ${[...counts].join(' vs ')}`);
  }
  if (a[0]!.distinct !== b[0]!.distinct) console.log(`  (states: this build ${n(a[0]!.distinct)}, ${other.name} ${n(b[0]!.distinct)})`);
  return { ratio, bytesPerState };
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, ${n(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
const dflt: string[] = [];

// The targets of the speed work, against one worker of the reference commit on seed/ept depth 9
// (7.4 million states): one worker at least 1.6x its throughput, two workers at least 2.2x, and a
// peak RSS of at most 90 bytes per state. --quick runs depth 7 (0.8 million states), which says less.
if (want('compare')) {
  const ref = baselineCli(ROOT, REFERENCE_COMMIT);
  const other = { name: REFERENCE_COMMIT, cli: ref, flags: dflt };
  const depth = quick ? 7 : 9;
  const pairs = 3;
  const one = compare(`one worker, seed/ept default universe, against one worker of ${REFERENCE_COMMIT}`, other, dflt, depth, pairs);
  const two = compare(`two workers, seed/ept default universe, against one worker of ${REFERENCE_COMMIT}`, other, [...dflt, '--workers', '2'], depth, pairs);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `targets at depth ${depth}: one worker ${one.ratio.toFixed(2)}x ${REFERENCE_COMMIT} (>= 1.6x: ${verdict(one.ratio >= 1.6)}); ` +
      `two workers ${two.ratio.toFixed(2)}x (>= 2.2x: ${verdict(two.ratio >= 2.2)}); ` +
      `peak RSS ${one.bytesPerState.toFixed(1)} bytes/state with one worker (<= 90: ${verdict(one.bytesPerState <= 90)}), ${two.bytesPerState.toFixed(1)} with two`,
  );
}

/**
 * Instructions executed (valgrind's callgrind, V8 single-threaded so that compilation does not vary
 * with timing): repeatable to about 0.3% on this machine, whatever the neighbours do, where wall time
 * drifts 2x. The exploration's share is the count at `depth` minus the count at `depth - 2` (start-up
 * and the first levels).
 */
async function instructions(cli: string, depth: number): Promise<number> {
  const count = (d: number) =>
    new Promise<number>((done, fail) => {
      const p = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', cli, 'explore', '--depth', String(d), '--json'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (b) => (err += b));
      p.on('error', fail);
      p.on('close', () => {
        const m = /Collected : (\d+)/.exec(err);
        if (m) done(Number(m[1]));
        else fail(new Error(`callgrind gave no count: ${err.slice(-300)}`));
      });
    });
  const [deep, shallow] = await Promise.all([count(depth), count(depth - 2)]);
  return deep - shallow;
}

if (want('instructions')) {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('instructions: valgrind is not installed (apt-get install valgrind); section skipped');
  } else {
    const ref = baselineCli(ROOT, REFERENCE_COMMIT);
    const depth = 5;
    const [mine, theirs] = [await instructions(CLI, depth), await instructions(ref, depth)];
    console.log(
      `instructions for levels ${depth - 1}-${depth} of seed/ept (callgrind): this build ${n(mine / 1e6)}M, ${REFERENCE_COMMIT} ${n(theirs / 1e6)}M; ` +
        `this / ${REFERENCE_COMMIT}: ${(mine / theirs).toFixed(3)} (below 1: fewer instructions)`,
    );
  }
}

if (want('default')) explore('explorer, seed/ept default universe', dflt, quick ? 6 : 7);

if (want('naive')) {
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
}

if (want('workers')) {
  const large = [...dflt, '--domains', 'dom0:pvh:hw,dom1:pvh,dom2:hvm,dom3:hvm', '--gfns', '3'];
  const largeDepth = quick ? 4 : 5;
  const label = 'explorer, seed/ept large universe (4 domains, 3 gfns)';
  // The runs go one worker, two, two, one: drift that is linear over the four cancels in the ratio of the sums.
  const oneA = explore(`${label}, 1 worker`, large, largeDepth);
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
}

if (want('steps')) {
  // --granularity steps: the seed's put before the write in p2m_remove_foreign (no-dangling-mapping at
  // depth 24 with two vCPUs), without reduction and with sleep sets (the default), alternating
  // none, sleep, sleep, none: the same states, fewer transitions stepped; then the same on the
  // default domains, the run the README's window figure is. (Persistent sets, --por, are not built:
  // docs/semantics.md says why.)
  const ops = ['--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--invariants', 'no-dangling-mapping'];
  const small = ['--granularity', 'steps', '--vcpus', '2', '--domains', 'dom0:pvh:hw,dom1:pvh,dom2:hvm', '--gfns', '1', '--spare-frames', '0', ...ops];
  const label = 'steps, seed/ept, 2 vCPUs, dom0 dom1:pvh dom2:hvm with 1 gfn';
  const runs: Record<string, RunWithReduction[]> = { none: [], sleep: [] };
  for (const mode of ['none', 'sleep', 'sleep', 'none']) {
    const r = exploreReduced([...small, '--reduction', mode], 24);
    describe(`${label}, --reduction ${mode}`, 24, r);
    if (r.pruned > 0) console.log(`  sleep sets: ${n(r.pruned)} of ${n(r.generated + r.pruned)} transitions not stepped (${((100 * r.pruned) / (r.generated + r.pruned)).toFixed(1)}%)`);
    runs[mode]!.push(r);
  }
  const [none, sleep] = [runs.none!, runs.sleep!];
  if (sleep.some((r) => r.distinct !== none[0]!.distinct) || none.some((r) => r.distinct !== none[0]!.distinct)) console.log('  MISMATCH: the reduction changed the states found');
  const secs = (rs: RunWithReduction[]) => rs.reduce((t, r) => t + r.elapsedMs, 0);
  console.log(`sleep sets / none: ${(secs(none) / secs(sleep)).toFixed(2)}x faster (ratio of the sums of the none, sleep, sleep, none runs), same ${n(none[0]!.distinct)} states`);
  // the window on the default domains, none, sleep, sleep, none: the README's figure
  const window: Record<string, RunWithReduction[]> = { none: [], sleep: [] };
  for (const mode of ['none', 'sleep', 'sleep', 'none']) {
    const r = exploreReduced(['--granularity', 'steps', '--vcpus', '2', ...ops, '--stop-at-first', '--reduction', mode], 24);
    describe(`steps, seed/ept, 2 vCPUs, default domains, --stop-at-first, --reduction ${mode}`, 24, r);
    console.log(`  the window (no-dangling-mapping at depth 24) ${r.violated ? 'found' : 'NOT found'} in ${(r.elapsedMs / 1000).toFixed(1)} s${r.pruned > 0 ? `; ${n(r.pruned)} transitions not stepped` : ''}`);
    window[mode]!.push(r);
  }
  const sleepSecs = window.sleep!.map((r) => r.elapsedMs / 1000);
  console.log(
    `the window with the default reduction: ${sleepSecs.map((x) => x.toFixed(1)).join(' s, ')} s (target: under 60 s on this 2-core machine); ` +
      `sleep sets / none ${(secs(window.none!) / secs(window.sleep!)).toFixed(2)}x (ratio of the sums)`,
  );
  explore('steps, seed/ept, 1 vCPU, default domains', ['--granularity', 'steps', '--vcpus', '1', ...ops], 25);
}

interface RunWithReduction extends Run {
  pruned: number;
  violated: boolean;
}

function exploreReduced(flags: string[], depth: number): RunWithReduction {
  const p = spawnSync(process.execPath, [CLI, 'explore', ...flags, '--depth', String(depth), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0 && p.status !== 12) throw new Error(`checker explore ${flags.join(' ')} exited ${p.status}: ${p.stderr}`);
  const j = JSON.parse(p.stdout);
  return {
    distinct: j.totals.distinct,
    generated: j.totals.generated,
    elapsedMs: j.elapsedMs,
    visitedBytes: j.visitedBytes,
    peakRssBytes: j.peakRssBytes,
    pruned: j.reduction?.pruned ?? 0,
    violated: j.properties.some((x: { verdict: string }) => x.verdict === 'violated'),
  };
}
