#!/usr/bin/env node
// The command line: explore, replay, list. Bad input gets one line and exit 2, never a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError, VariantError } from '../../model/index.js';
import { CheckpointError } from '../engine/index.js';
import { TraceFormatError } from '../trace/itf.js';
import { EXIT, printable, TOOL_VERSION, UsageError } from './common.js';
import { runCheckVariant, type CheckVariantFlags } from './check-variant.js';
import { reflowHelp, terminalWidth } from './terminal.js';
import { runExplore, type ExploreFlags } from './explore.js';
import { DEFAULT_DEPTH, takeXenFlag, universeOptions, type XenFlag } from './flags.js';
import { runList } from './list.js';
import type { RegressFlags } from './regress.js';
import { runReplay, type ReplayFlags } from './replay.js';
import { DEFAULT_PORT, runServe, SEARCH_MAX_STATES, type ServeFlags } from './serve.js';
import { DEFAULT_RUNS, DEFAULT_STEPS, runSimulate, type SimulateFlags } from './simulate.js';
import { runExportTest, runTraceExport, runTraceShow, useColor, type ExportTestFlags, type TraceExportFlags, type TraceShowFlags } from './trace.js';

// A reader that goes away (`checker list | head -1`) is no error of ours: the rest of the output is
// dropped, and the command ends as it would have.
let stdoutGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') stdoutGone = true;
  else throw e;
});
process.stderr.on('error', () => {});
const out = (s: string) => void (stdoutGone || process.stdout.write(s));
const err = (s: string) => void process.stderr.write(s);

/**
 * The action of a command with universe flags: --xen (or its old spelling --version NAME) folded into
 * the options first; a bare --version prints the tool's version, as it does before the command.
 */
function withXen<O extends object, A extends unknown[]>(run: (o: O, ...rest: A) => Promise<number>) {
  return async (...args: unknown[]) => {
    // commander passes the positional arguments first, then the options, then the command
    const o = args[args.length - 2] as O & XenFlag;
    if (!takeXenFlag(o, err)) {
      out(`${TOOL_VERSION}\n`);
      process.exitCode = EXIT.ok;
      return;
    }
    process.exitCode = await run(o, ...(args.slice(0, -2) as A));
  };
}

export function buildProgram(): Command {
  const program = new Command();
  // help and errors wrapped to the terminal (80 columns elsewhere): commander wraps its option lists,
  // not the text added after them
  const width = terminalWidth(process.stdout) ?? 80;
  program.configureOutput({
    writeOut: (s) => out(reflowHelp(s, width)),
    writeErr: (s) => err(s),
  });
  program
    .name('checker')
    .description(
      "Explicit-state model checker for Xen's foreign-page mapping protocol (XENMEM_add_to_physmap, " +
        'XENMAPSPACE_gmfn_foreign): explores every bounded sequence of hypercalls and domain teardown, ' +
        'checks reference-count and mapping invariants in every state, prints the shortest counterexample.\n\n' +
        'Start with: checker explore (then checker explore --help).',
    )
    .version(TOOL_VERSION, '-V, --version', 'print the tool version')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Words the reports use:
  gfn        guest frame number: an index into a domain's p2m, its physical
             address space (p2m[dom1][0] is dom1's gfn 0)
  mfn        machine frame number: a frame of the host (frames[4] is mfn 4)
  foreign    an entry of one domain's p2m mapping another domain's frame;
             it must hold a reference on that frame while it exists
  dying      killed, relinquishing its memory (life: alive, dying, dead,
             destroyed)
  dead       relinquish done, final destroy not run: its frames stay while
             anything holds a reference on them
  destroyed  final destroy ran: its p2m is gone
  zombie     a dead domain some of whose frames nothing that cleanup can drop
             will ever release (no-orphan-reference, cleanup-possible)
  witness    a "sometimes" property, a state the model must reach (a foreign
             mapping, a teardown): one never reached means the invariants may
             hold only because nothing happens
  replay token  the action indices of a counterexample (28,55): checker
             replay --path 28,55 runs it again

Examples:
  checker explore                      the seed patch: its leaks, shortest first
  checker explore --xen xen-4.19 --depth 7        a fixed version, deeper
  checker replay --path 28,55          a counterexample again, from its token
  checker --version                    this tool's version (Xen's is --xen)`,
    );

  universeOptions(
    program
      .command('explore')
      .description('breadth-first exploration to a depth bound; every invariant, its shortest counterexample')
      .option('--depth <n|all>', `operations from the booted state, or "all" to run to the fixpoint (default ${DEFAULT_DEPTH})`)
      .option('--mutant <name>', 'check a known fault of the catalogue on its base version (see checker list mutants)')
      .option('--variant <file>', 'check your own patch: a TypeScript module overriding Xen functions of a base version (see README)')
      .option('--properties <file>', 'a module of invariants and witnesses of your own ({ invariants, witnesses }), checked with the built-in ones')
      .option('--coverage', 'report what the exploration exercised: per operation and return code the transitions, distinct successors and self-loops; per Xen function (and each override of a variant) its calls and the blocks of its code that never ran')
      .option('--invariants <list>', 'invariants to check, comma-separated (default: all; see checker list invariants)')
      .option('--max-states <n>', 'stop (exit 3) once this many distinct states are stored')
      .option('--memory-limit <MiB>', 'stop (exit 3) when resident memory passes this (default: 60% of the machine)')
      .option('--time-limit <duration>', 'stop (exit 3) after this long: seconds, or 500ms, 90s, 15m, 2h')
      .option('--stop-at-first', 'end at the level of the first violation')
      .option('--exact', 'compare full state encodings instead of 64-bit fingerprints (cross-check)')
      .option('--checkpoint <dir>', 'save the search in DIR/checkpoint.bin at the end of every level (replaced atomically: a crash keeps the last one whole)')
      .option('--resume <dir>', "continue the search saved in DIR, with the same model flags (refused otherwise); --depth and the limits may differ (a deeper --depth goes on); add --checkpoint to keep saving (DIR itself, or another)")
      .option('--frontier-memory <size>', 'keep at most this much of the frontier in memory, the rest on disk, written and read in order: MiB, or 512K, 64M, 2G (one worker only; without it the frontier stays in memory)')
      .option('--spill-dir <dir>', 'where the frontier goes past --frontier-memory (default: the system\'s temporary folder; alone: with --frontier-memory a quarter of --memory-limit); its files are removed at the end, on Ctrl-C and on errors')
      .option('--reduction <mode>', 'with --granularity steps: sleep (the default: transitions that only reorder independent segments are not stepped; the same states, depths and traces) or none')
      .option('--por', 'partial-order reduction with persistent sets (not built: see docs/semantics.md; sleep sets are the default with --granularity steps)')
      .option('--symmetry', 'identify states that differ only by swapping domains of the same kind (never the hardware domain): the same verdicts and depths, a little fewer states (frames stay numbered)')
      .option('--workers <n>', "worker threads expanding each level (same results for any number; default 1; at most the machine's cores)")
      .option('--oversubscribe', "allow --workers beyond the machine's cores (up to 64)")
      .option('--json', 'print one JSON object instead of the report')
      .option('--trace-out <dir>', 'write each counterexample as DIR/<invariant>.itf.json (ITF)')
      .option('--progress', 'print progress on stderr every second: one line rewritten in place on a terminal (the default there), a line per update elsewhere')
      .option('--no-progress', 'never print progress lines')
      .option('--color', 'colour the report even when stdout is not a terminal (as FORCE_COLOR=1)')
      .option('--no-color', 'never colour the report (as NO_COLOR=1)'),
  )
    .addHelpText(
      'after',
      `
What depth costs (default universe, seed on EPT, one worker, on a 2-core
machine): each level holds about 3.5 times the states of the one before, and
time follows the states.
  depth   new states   total states   time
      5       46,901         59,997   about 1 s
      6      178,938        238,935   2-4 s
      7      607,804        846,739   7-16 s
      8   about 2.1M     about 3.0M   about a minute (estimated: 3.5 x depth 7)
The progress line estimates the level under way from the two before it.

Every invariant is on by default, cleanup-possible included: it is judged by search (can the
toolstack's remove, decrease and destroy still free everything?), which costs about 10% on a clean
version (xen-4.19, depth 6); --invariants leaves it out. With --granularity steps it is judged in
the states with no hypercall in flight, and the report says so; transition properties judge each call
when it returns.

Long runs: --checkpoint DIR saves the search at the end of every level; after a crash, Ctrl-C or a
limit, the same command with --resume DIR goes on from the last level saved, with the same result as
one uninterrupted run (a checkpoint of another model, version, variant or universe is refused, exit 2).
Past memory: with --frontier-memory, the frontier beyond it goes to files in --spill-dir (a real
disk: /tmp may be memory), written and read in order, with the same result.
  checker explore --depth 9 --checkpoint ck/                then, after a stop:
  checker explore --depth 9 --resume ck/ --checkpoint ck/   or deeper: --depth 10
  checker explore --depth 10 --frontier-memory 256M --spill-dir /var/tmp

Exit codes: 0 nothing violated; 12 an invariant violated (also when a limit stopped the run after
it: a violation wins); 3 stopped by a limit or Ctrl-C before the bound with nothing violated;
2 bad usage, a bad file, or an output that cannot be written; 1 internal error.

Examples:
  checker explore                                  seed on EPT, default universe, depth ${DEFAULT_DEPTH}
  checker explore --xen head --build release       head's teardown of a device model, release build
  XSA-222, a frame freed while a superpage maps it:
  checker explore --xen xen-4.5 --superpages --depth 3 --ops populate_physmap,
      decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy,
      fail_next_alloc    (one argument: no spaces after the commas)
  checker explore --xen xen-4.5 --backend pt --depth 6
  checker explore --depth all --gfns 1 --spare-frames 0
  checker explore --invariants refcount-matches-holders --stop-at-first --trace-out traces/
  checker explore --depth 9 --time-limit 10m       stop after ten minutes, with the partial report
  checker explore --mutant ept-write-without-put   a known fault, caught at its expected depth
  checker explore --variant my-fix.ts --json       your own patch; one JSON document (docs/schemas/)
  checker replay traces/refcount-matches-holders.itf.json`,
    )
    .action(withXen((opts: ExploreFlags) => runExplore(opts, out, err)));

  universeOptions(
    program
      .command('simulate')
      .description('random deep walks (fast-check): every invariant on every state; a violation is shrunk to a short counterexample')
      .option('--steps <n>', `maximum operations per walk (default ${DEFAULT_STEPS})`)
      .option('--runs <n>', `number of walks (default ${DEFAULT_RUNS})`)
      .option('--seed <n>', 'fast-check seed, an integer (default: random; always printed)')
      .option('--path <p>', "fast-check's counterexample path, with --seed: replays a failure exactly")
      .option('--invariants <list>', 'invariants to check, comma-separated (default: all; see checker list invariants)')
      .option('--mutant <name>', 'walk a known fault of the catalogue on its base version (see checker list mutants)')
      .option('--variant <file>', 'walk your own patch: a TypeScript module overriding Xen functions of a base version')
      .option('--properties <file>', 'a module of invariants and witnesses of your own ({ invariants, witnesses })')
      .option('--trace-out <dir>', 'write the counterexample as DIR/<invariant>.itf.json (ITF)')
      .option('--json', 'print one JSON object instead of the report')
      .option('--color', 'colour the report even when stdout is not a terminal (as FORCE_COLOR=1)')
      .option('--no-color', 'never colour the report (as NO_COLOR=1)'),
  )
    .addHelpText(
      'after',
      `
Not exhaustive: a clean run says only that these walks found nothing. Steps and distinct states
count the walks fast-check generated; the walks tried while shrinking are reported apart.

Exit codes: 0 no invariant violated, 12 an invariant violated, 3 interrupted (Ctrl-C) with nothing
violated, 2 bad usage, a bad file or an output that cannot be written, 1 internal error.

Examples:
  checker simulate                                 seed on EPT, ${DEFAULT_RUNS} walks of at most ${DEFAULT_STEPS} operations
  checker simulate --xen xen-4.19 --runs 1000 --steps 200
  checker simulate --seed 42 --trace-out traces/   then: checker replay traces/<invariant>.itf.json
  checker simulate --seed 42 --path 13:4:5:8:16     replay the failure it printed (the reproduce line)`,
    )
    .action(withXen((opts: SimulateFlags) => runSimulate(opts, out, err)));

  universeOptions(
    program
      .command('replay')
      .description('re-execute a counterexample and say whether it still violates its property: a trace file, or a replay token (--path) on the universe the flags give')
      .argument('[file]', 'a trace written by explore --trace-out (or an ITF trace of this model written by another tool)')
      .option('--path <token>', 'a replay token as the reports print it (28,55): replayed on the universe of the flags, every invariant judged')
      .option('--invariants <list>', 'with --path: the invariants to judge (default: all)')
      .option('--trace-out <dir>', 'with --path: write each violation as DIR/<invariant>.itf.json (ITF), the token up to the step that violates it')
      .option('--mutant <name>', 'with --path: the mutant the token was printed for')
      .option('--variant <file>', 'the variant file a trace or a token of a variant was made with (a trace records its name and hash, never loads code)'),
  )
    .addHelpText(
      'after',
      `
A trace file carries its configuration; the universe flags are for --path, and for an ITF trace of
this model written by another tool with no configuration of ours in its #meta (its states are checked
against the model, and the path is found from them).

Exit codes: 12 still violated, 0 no longer violated, 2 the trace or token does not match the model
(with the step) or bad usage.

Examples:
  checker replay traces/refcount-matches-holders.itf.json
  checker replay --path 28,55                              the seed's teardown leak, default universe
  checker replay --path 14 --mutant ept-write-without-put
  checker replay --xen xen-4.19 --preemptible-teardown --path 28,34,55,58,28,58 --trace-out traces/
  checker replay other-tool.itf.json --xen xen-4.19 --domains dom0:pvh:hw,dom1:pvh`,
    )
    .action(withXen((o: ReplayFlags, file: string | undefined) => runReplay(file, o, out)));

  const trace = program.command('trace').description('inspect and export counterexample traces (ITF files written by explore --trace-out): show, export-test, export --format c');
  universeOptions(
    trace
      .command('show')
    .description('render a counterexample for a person: the steps, their return codes, the cells they changed')
    .argument('<file>', 'an ITF trace (*.itf.json)')
    .option('--format <fmt>', 'text | json | dot (Graphviz) | md (a Markdown table for a bug report)', 'text')
    .option('--full', 'the whole state at each step, changed cells highlighted')
    .option('--frame <n>', 'project onto one frame: only the steps and cells that touch it, and its reference ledger')
    .option('--domain <d>', 'project onto one domain (dom1 or 1): only the steps and cells that touch it')
    .option('--vcpu <n>', 'a trace of --granularity steps: only the segments vCPU n ran')
    .option('--whole', 'dot and md: every cell of every step (by default they project onto the violated frame or domain)')
    .option('--color', 'colour even when stdout is not a terminal (as FORCE_COLOR=1)')
    .option('--no-color', 'never colour (colour is used on a terminal unless NO_COLOR is set)')
    .option('--variant <file>', 'the variant file a trace of a variant was made with')
    .option('--mutant <name>', 'for a trace another tool wrote: the mutant it is of'),
  )
    .addHelpText('after', '\nExamples:\n  checker trace show traces/refcount-matches-holders.itf.json\n  checker trace show T.itf.json --frame 4\n  checker trace show T.itf.json --format dot | dot -Tsvg > trace.svg')
    .action(withXen((o: TraceShowFlags, file: string) => runTraceShow(file, o, out, useColor(o.color, process.stdout))));

  trace
    .command('export-test')
    .description('write a vitest test that runs the counterexample through the checker and asserts a verdict: still violated, or fixed')
    .argument('<file>', 'an ITF trace (*.itf.json)')
    .option('--out <file>', 'the test file to write, ending in .test.ts (default: ./<trace name>.test.ts)')
    .option('--expect <verdict>', 'violated: the test keeps the bug caught (same step, same frame); fixed: it keeps your fix a fix (default: violated)')
    .option('--force', 'overwrite the test file if it exists')
    .option('--variant <file>', 'the variant file a trace of a variant was made with')
    .addHelpText(
      'after',
      `
The test imports the checker by its package name and asserts verdicts, never the wording of a message.
CHECKER_VARIANT=./fix.ts runs it under a variant of yours instead. The command to run it is printed.

Example (keep a fix):
  checker replay traces/refcount-matches-holders.itf.json --variant my-fix.ts      exit 0: fixed
  checker trace export-test traces/refcount-matches-holders.itf.json --expect fixed --out test/leak-fixed.test.ts`,
    )
    .action(async (file: string, o: ExportTestFlags) => {
      process.exitCode = await runExportTest(file, o, out);
    });

  trace
    .command('export')
    .description('write the counterexample as a program to run on a real Xen host: --format c, a C reproducer for dom0 (libxenctrl)')
    .argument('<file>', 'an ITF trace (*.itf.json) written by the checker')
    .option('--format <fmt>', 'c: a self-contained C program that creates the trace\'s domains, issues its hypercalls, compares each answer with the model\'s and checks the violation')
    .option('--out <file>', 'the program to write, ending in .c (default: ./<trace name>.c)')
    .option('--gfn-base <gfn>', 'the host gfn the model\'s gfn 0 becomes, compiled in as the program\'s default (decimal or 0x...; default 0x10000)')
    .option('--force', 'overwrite the program if it exists')
    .option('--variant <file>', 'the variant file a trace of a variant was made with (the program names the variant and its hash)')
    .addHelpText(
      'after',
      `
The program runs as root in dom0: it creates empty, paused domains of the trace's kinds, populates
their gfns, issues each step's hypercall (xc_domain_add_to_physmap_batch, xc_domain_destroy, ...),
prints each return code beside the model's, checks what the violation leaves (a domain that stays a
zombie, a teardown that fails), destroys what it created (also on Ctrl-C) and ends with one line:
reproduced (exit 12), not reproduced (0), diverged at step N (13), or not run (2). A trace whose calls
overlap becomes threads racing, retried (--attempts). docs/reproducers.md has the details.

A trace of a mutant (no host runs one) and a trace another tool wrote (no configuration of ours)
are refused.

Examples:
  checker explore --depth 2 --trace-out traces/
  checker trace export --format c traces/refcount-matches-holders.itf.json --out leak.c
  gcc -Wall -Wextra -Werror -O2 -o leak leak.c -lxenctrl -lpthread && sudo ./leak`,
    )
    .action(async (file: string, o: TraceExportFlags) => {
      process.exitCode = await runTraceExport(file, o, out);
    });

  program
    .command('check-variant')
    .description('check a variant before running it: the TypeScript compiler on it (strict, against the package\'s types), then load it as a run would')
    .argument('<file>', 'a variant module (or, with --properties, a module of invariants and witnesses)')
    .option('--properties', 'the file is a --properties module { invariants, witnesses }')
    .option('--xen <name>', 'load it on this Xen version (one of its base and appliesTo)')
    .addHelpText(
      'after',
      `
Type errors are printed as file:line:col: message, and the command exits 2. In your variant,
  import type { Variant } from 'xen-foreign-checker';
type-checks wherever the file is.

Exit codes: 0 the variant type-checks and loads, 2 it does not (with why).

Example:
  checker check-variant my-fix.ts && checker explore --variant my-fix.ts --coverage`,
    )
    .action(async (file: string, o: CheckVariantFlags) => {
      process.exitCode = await runCheckVariant(file, o, out, err);
    });

  program
    .command('regress')
    .description('run the regression matrix (versions × backends, mutants, variants) against its committed expectations')
    .option('--matrix <file>', 'a matrix file of your own (default: the project\'s, checker/regress/matrix.json)')
    .option('--only <text>', 'run only the entries whose name contains this')
    .option('--junit <file>', 'also write JUnit XML: a test case per entry, a deviation a <failure>, an entry that cannot run an <error>, each with its counterexamples and the command that reproduces it')
    .option('--trace-out <dir>', "write the counterexamples of each entry with deviations as DIR/<entry>/<invariant>.itf.json")
    .option('--json', 'print one JSON summary instead of the report')
    .option('--color', 'colour the report even when stdout is not a terminal')
    .option('--no-color', 'never colour the report')
    .option('--update', 'record what is observed as the new expectations (review the diff before committing)')
    .addHelpText(
      'after',
      `
Each entry is explored to its depth; a deviation from its expectations fails the run: an invariant
violated that was clean, one no longer violated (a mutant no longer caught) or at another depth, a
witness no longer reached (a vacuous model), a changed number of distinct states.

Exit codes: 0 every entry as expected; 12 at least one deviation; 2 a bad matrix (checked against
its schema before anything runs: unknown keys, wrong types), an entry that cannot run (a variant
that does not load or throws, an unknown mutant: reported as that entry's error while the others
run), or an output that cannot be written.

Examples:
  checker regress                                   the project's matrix (checker/regress/matrix.json)
  checker regress --only seed --junit regress.xml --trace-out traces/
  checker regress --matrix my-matrix.json --update  record what is observed (review the diff)`,
    )
    .action(async (o: RegressFlags) => {
      // loaded when used: the matrix's schema validator costs every other command a tenth of a second to load
      const { runRegress } = await import('./regress.js');
      process.exitCode = await runRegress(o, out, err);
    });

  program
    .command('serve')
    .description('a web page on a local port: step through traces, see the state drawn, explore by hand, search for the nearest violation')
    .option('--trace-dir <dir>', 'the folder of traces to list (default: ./traces when it exists)')
    .option('--port <n>', `the port (default ${DEFAULT_PORT}; 0: any free port)`)
    .option('--host <addr>', 'the address to listen on (default 127.0.0.1: this machine only); another address warns, and requests must still name the server by one of its addresses')
    .option('--variant <file>', 'a variant of yours to open traces of and explore (repeatable); a trace never loads code itself', (v: string, acc: string[] = []) => [...acc, v])
    .option('--max-states <n>', `distinct states a search from the page may store before it stops (default ${SEARCH_MAX_STATES.toLocaleString('en-US')})`)
    .addHelpText(
      'after',
      `
The page lists the folder's traces, steps through one with its state drawn (with --granularity steps,
a lane per vCPU, the p2m locks and the pending TLB flushes), lets you take any operation by hand,
searches for the nearest violation from any state (progress, cancel, and what was checked in explore's
words), and exports a walk as a trace file for checker replay. Every view has its own link.

Only requests that name the server by its address (or localhost) are answered, and the API answers
only its own page: a page of another site cannot drive it. Ctrl-C stops the server, and any search.

Examples:
  checker serve --trace-dir traces/        after explore --trace-out traces/
  checker serve --port 0 --variant fix.ts  any free port; fix.ts's traces open`,
    )
    .action(async (o: ServeFlags) => {
      process.exitCode = await runServe(o, out, err);
    });

  program
    .command('list')
    .description('list invariants, witnesses, operations, versions, mutants or fault kinds (with what a release build does instead)')
    .argument('[what]', 'invariants | witnesses | operations | versions | mutants | faults | all', 'all')
    .option('--verbose', 'with mutants: say which Xen change each undoes')
    .addHelpText('after', '\nExamples:\n  checker list invariants\n  checker list mutants --verbose')
    .action((what: string, o: { verbose?: boolean }) => {
      runList(what, o.verbose === true, out);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message (or the help / version)
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof TraceFormatError || e instanceof VariantError || e instanceof CheckpointError) {
      err(`checker: ${printable(e.message)}\n`);
      return EXIT.usage;
    }
    err(`checker: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

process.exitCode = await main(process.argv.slice(2));
