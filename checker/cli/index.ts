#!/usr/bin/env node
// The command line: explore, replay, list. Bad input gets one line and exit 2, never a stack trace.
import { Command, CommanderError } from 'commander';
import { ConfigError, VariantError } from '../../model/index.js';
import { TraceFormatError } from '../trace/itf.js';
import { EXIT, printable, TOOL_VERSION, UsageError } from './common.js';
import { runExplore, type ExploreFlags } from './explore.js';
import { DEFAULT_DEPTH, takeXenFlag, universeOptions, type XenFlag } from './flags.js';
import { runList } from './list.js';
import type { RegressFlags } from './regress.js';
import { runReplay } from './replay.js';
import { DEFAULT_PORT, runServe, type ServeFlags } from './serve.js';
import { DEFAULT_RUNS, DEFAULT_STEPS, runSimulate, type SimulateFlags } from './simulate.js';
import { runExportTest, runTraceShow, useColor, type ExportTestFlags, type TraceShowFlags } from './trace.js';

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
    .exitOverride();

  universeOptions(
    program
      .command('explore')
      .description('breadth-first exploration to a depth bound; every invariant, its shortest counterexample')
      .option('--depth <n|all>', `operations from the booted state, or "all" to run to the fixpoint (default ${DEFAULT_DEPTH})`)
      .option('--mutant <name>', 'check a known fault of the catalogue on its base version (see checker list mutants)')
      .option('--variant <file>', 'check your own patch: a TypeScript module overriding Xen functions of a base version (see README)')
      .option('--invariants <list>', 'invariants to check, comma-separated (default: all; see checker list invariants)')
      .option('--max-states <n>', 'stop (exit 3) once this many distinct states are stored')
      .option('--memory-limit <MiB>', 'stop (exit 3) when resident memory passes this (default: 60% of the machine)')
      .option('--time-limit <duration>', 'stop (exit 3) after this long: seconds, or 500ms, 90s, 15m, 2h')
      .option('--stop-at-first', 'end at the level of the first violation')
      .option('--exact', 'compare full state encodings instead of 64-bit fingerprints (cross-check)')
      .option('--symmetry', 'identify states that differ only by swapping domains of the same kind (never the hardware domain): the same verdicts and depths, a little fewer states (frames stay numbered)')
      .option('--workers <n>', "worker threads expanding each level (same results for any number; default 1; at most the machine's cores)")
      .option('--oversubscribe', "allow --workers beyond the machine's cores (up to 64)")
      .option('--json', 'print one JSON object instead of the report')
      .option('--trace-out <dir>', 'write each counterexample as DIR/<invariant>.itf.json (ITF)')
      .option('--progress', 'print a progress line on stderr every second (default when stderr is a terminal)')
      .option('--no-progress', 'never print progress lines'),
  )
    .addHelpText(
      'after',
      `
Every invariant is on by default, cleanup-possible included: it is judged by search (can the
toolstack's remove, decrease and destroy still free everything?), which costs about 10% on a clean
version (xen-4.19, depth 6); --invariants leaves it out.

Exit codes: 0 nothing violated; 12 an invariant violated (also when a limit stopped the run after
it: a violation wins); 3 stopped by a limit or Ctrl-C before the bound with nothing violated;
2 bad usage, a bad file, or an output that cannot be written; 1 internal error.

Examples:
  checker explore                                  seed on EPT, default universe, depth ${DEFAULT_DEPTH}
  checker explore --xen head --build release       head's teardown of a device model, release build
  checker explore --xen xen-4.5 --superpages --ops populate_physmap,decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy,fail_next_alloc --depth 3
                                                   XSA-222: a frame freed while a superpage maps it
  checker explore --xen xen-4.5 --backend pt --depth 6
  checker explore --depth all --gfns 1 --spare-frames 0
  checker explore --invariants refcount-matches-holders --stop-at-first --trace-out traces/
  checker explore --depth 9 --time-limit 10m       stop after ten minutes, with the partial report
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
      .option('--trace-out <dir>', 'write the counterexample as DIR/<invariant>.itf.json (ITF)')
      .option('--json', 'print one JSON object instead of the report'),
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

  program
    .command('replay')
    .description('re-execute an ITF counterexample on the configuration in its #meta and say whether it still violates its property')
    .argument('<file>', 'a trace written by explore --trace-out')
    .option('--variant <file>', 'the variant file a trace of a variant was made with (a trace records its name and hash, never loads code)')
    .addHelpText('after', '\nExit codes: 12 still violated, 0 no longer violated, 2 the trace does not match the model (with the step).')
    .action(async (file: string, o: { variant?: string }) => {
      process.exitCode = await runReplay(file, o, out);
    });

  const trace = program.command('trace').description('inspect counterexample traces (ITF files written by explore --trace-out)');
  trace
    .command('show')
    .description('render a counterexample for a person: the steps, their return codes, the cells they changed')
    .argument('<file>', 'an ITF trace (*.itf.json)')
    .option('--format <fmt>', 'text | json | dot (Graphviz) | md (a Markdown table for a bug report)', 'text')
    .option('--full', 'the whole state at each step, changed cells highlighted')
    .option('--frame <n>', 'project onto one frame: only the steps and cells that touch it, and its reference ledger')
    .option('--domain <d>', 'project onto one domain (dom1 or 1): only the steps and cells that touch it')
    .option('--no-color', 'never colour (colour is used on a terminal unless NO_COLOR is set)')
    .option('--variant <file>', 'the variant file a trace of a variant was made with')
    .addHelpText('after', '\nExamples:\n  checker trace show traces/refcount-matches-holders.itf.json\n  checker trace show T.itf.json --frame 4\n  checker trace show T.itf.json --format dot | dot -Tsvg > trace.svg')
    .action(async (file: string, o: TraceShowFlags) => {
      process.exitCode = await runTraceShow(file, o, out, useColor(o.color, process.stdout));
    });

  trace
    .command('export-test')
    .description('write a vitest test that replays the counterexample through the model and asserts the same violation')
    .argument('<file>', 'an ITF trace (*.itf.json)')
    .option('--out <file>', 'the test file to write, ending in .test.ts (default: ./<trace name>.test.ts)')
    .option('--force', 'overwrite the test file if it exists')
    .option('--variant <file>', 'the variant file a trace of a variant was made with')
    .addHelpText('after', '\nThe test fails once the violation is gone; CHECKER_VARIANT=./fix.ts runs it against a variant of yours.')
    .action(async (file: string, o: ExportTestFlags) => {
      process.exitCode = await runExportTest(file, o, out);
    });

  program
    .command('regress')
    .description('run the regression matrix (versions × backends, mutants, variants) against its committed expectations')
    .option('--matrix <file>', 'a matrix file of your own (default: the project\'s, checker/regress/matrix.json)')
    .option('--only <text>', 'run only the entries whose name contains this')
    .option('--junit <file>', 'also write JUnit XML')
    .option('--json', 'print one JSON summary instead of the report')
    .option('--update', 'record what is observed as the new expectations (review the diff before committing)')
    .addHelpText(
      'after',
      `
Each entry is explored to its depth; a deviation from its expectations fails the run: an invariant
violated that was clean, one no longer violated (a mutant no longer caught) or at another depth, a
witness no longer reached (a vacuous model), a changed number of distinct states.

Exit codes: 0 every entry as expected, 12 at least one deviation, 2 a bad matrix (checked against
its schema before anything runs: unknown keys, wrong types, entries that cannot run) or an output
that cannot be written.`,
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
    .option('--host <addr>', 'the address to listen on (default 127.0.0.1: this machine only)')
    .option('--variant <file>', 'a variant of yours to open traces of and explore (repeatable); a trace never loads code itself', (v: string, acc: string[] = []) => [...acc, v])
    .addHelpText('after', '\nExample (after checker explore --trace-out traces/):\n  checker serve --trace-dir traces/')
    .action(async (o: ServeFlags) => {
      process.exitCode = await runServe(o, out);
    });

  program
    .command('list')
    .description('list invariants, witnesses, operations, versions, mutants or fault kinds (with what a release build does instead)')
    .argument('[what]', 'invariants | witnesses | operations | versions | mutants | faults | all', 'all')
    .option('--verbose', 'with mutants: say which Xen change each undoes')
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
    if (e instanceof UsageError || e instanceof ConfigError || e instanceof TraceFormatError || e instanceof VariantError) {
      err(`checker: ${printable(e.message)}\n`);
      return EXIT.usage;
    }
    err(`checker: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

process.exitCode = await main(process.argv.slice(2));
