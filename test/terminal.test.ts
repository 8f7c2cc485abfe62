// What a person reads: colour as NO_COLOR, FORCE_COLOR and --color say, lines wrapped to the
// terminal, a progress line with an estimate of the next level, the closing verdict line, replay
// tokens accepted back (replay --path), and pictures of a counterexample (DOT, Markdown) that carry the
// violation, the offending cells and the command that reproduces it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { nextLevelEstimate, progressSink, progressText } from '../checker/cli/progress.js';
import { reflowHelp, terminalWidth, useColor } from '../checker/cli/terminal.js';
import { visibleLength, wrapLine } from '../checker/trace/style.js';
import { cli, cliWithin, expectUsageError, lines } from './cli-run.js';

const ESC = '\u001b[';
const dir = mkdtempSync(join(tmpdir(), 'checker-terminal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('colour', () => {
  it.each([
    [undefined, {}, true, true],
    [undefined, {}, false, false],
    [undefined, { NO_COLOR: '1' }, true, false],
    [undefined, { NO_COLOR: '' }, true, true],
    [undefined, { FORCE_COLOR: '1' }, false, true],
    [undefined, { FORCE_COLOR: '0' }, true, false],
    [undefined, { FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    [true, { NO_COLOR: '1' }, false, true],
    [false, { FORCE_COLOR: '1' }, true, false],
  ] as const)('flag %s, env %j, terminal %s: %s', (flag, env, tty, want) => {
    expect(useColor(flag, { isTTY: tty }, env)).toBe(want);
  });

  it('explore colours its report with --color or FORCE_COLOR, never with NO_COLOR or into a pipe', async () => {
    const args = ['explore', '--depth', '2', '--invariants', 'refcount-matches-holders'];
    const [plain, forced, env, no] = await Promise.all([
      cli(...args),
      cli(...args, '--color'),
      cliWithin(60_000, args, { FORCE_COLOR: '1' }),
      cliWithin(60_000, [...args, '--color'], { NO_COLOR: '1' }), // the flag wins over the environment
    ]);
    expect(plain.stdout).not.toContain(ESC);
    expect(forced.stdout).toContain(`${ESC}31m✗${ESC}39m`);
    expect(env.stdout).toContain(ESC);
    expect(no.stdout).toContain(ESC);
    const noColor = await cliWithin(60_000, args, { NO_COLOR: '1', FORCE_COLOR: '' });
    expect(noColor.stdout).toContain(ESC); // FORCE_COLOR set (even empty) colours, as Node's own rule
  });
});

describe('width', () => {
  it('wraps at spaces with a hanging indent, counting columns without colour codes', () => {
    const w = wrapLine(`  ${ESC}31m✗${ESC}39m ${'word '.repeat(30).trim()}`, 40);
    expect(w.length).toBeGreaterThan(1);
    for (const l of w) expect(visibleLength(l)).toBeLessThanOrEqual(40);
    expect(w[1]).toMatch(/^ {6}word/);
    expect(wrapLine('short', 40)).toEqual(['short']);
    expect(wrapLine('verdict: all nine invariants hold to depth 6; exit 12', 48)).toEqual(['verdict: all nine invariants hold to depth 6;', '    exit 12']);
    expect(wrapLine('x'.repeat(100), null)).toEqual(['x'.repeat(100)]);
  });

  it('is the terminal\'s, else COLUMNS, else none', () => {
    expect(terminalWidth({ isTTY: true, columns: 120 }, {})).toBe(120);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: '80' })).toBe(80);
    expect(terminalWidth({ isTTY: false }, {})).toBeNull();
  });

  it('at 80 columns no line of the report passes 80, and the verdict closes it', async () => {
    const r = await cliWithin(120_000, ['explore', '--depth', '3'], { COLUMNS: '80' });
    expect(r.status).toBe(12);
    const ls = r.stdout.trimEnd().split('\n');
    expect(ls.filter((l) => visibleLength(l) > 80)).toEqual([]);
    // the verdict closes the report (wrapped itself, with a hanging indent)
    const v = ls.map((l) => l.startsWith('verdict: ')).lastIndexOf(true);
    expect(ls[v]).toMatch(/^verdict: 3 of 9 invariants violated \(/);
    expect(ls.slice(v + 1).every((l) => l.startsWith('    '))).toBe(true);
    expect(r.stdout.trimEnd()).toMatch(/exit 12$/);
  });

  it('help is fitted to the width: prose refilled, a long example split before its description', () => {
    const text = `Usage: x\n\nA paragraph of prose that goes on and on well past the edge of any narrow terminal window.\n\nExamples:\n  checker explore --depth 9 --time-limit 10m       stop after ten minutes, with the partial report`;
    const out = reflowHelp(text, 60).split('\n');
    for (const l of out) expect(visibleLength(l)).toBeLessThanOrEqual(60);
    expect(out).toContain('  checker explore --depth 9 --time-limit 10m');
    expect(out).toContain('      stop after ten minutes, with the partial report');
  });

  it('a text added after the options keeps the blank line before it', () => {
    expect(reflowHelp('\nA paragraph of prose that goes on and on well past the edge of a narrow terminal.\n', 60)).toBe(
      '\nA paragraph of prose that goes on and on well past the edge\nof a narrow terminal.\n',
    );
  });

  it.each([[[]], [['explore']], [['simulate']], [['replay']], [['trace', 'show']], [['regress']], [['list']], [['serve']]])('checker %j --help fits 80 columns and has an example', async (args) => {
    const r = await cli(...args, '--help');
    expect(r.status).toBe(0);
    expect(lines(r.stdout).filter((l) => visibleLength(l) > 80)).toEqual([]);
    expect(r.stdout).toMatch(/\nExamples?:/);
  });

  it('--help says what depth costs and what the words mean', async () => {
    const [top, explore] = await Promise.all([cli('--help'), cli('explore', '--help')]);
    for (const w of ['gfn', 'mfn', 'witness', 'zombie', 'dead', 'destroyed', 'replay token']) expect(top.stdout).toMatch(new RegExp(`\\n  ${w} `));
    expect(explore.stdout).toMatch(/What depth costs/);
    expect(explore.stdout).toMatch(/\n {6}6 +178,938 +238,935/);
  });
});

describe('progress', () => {
  const p = { depth: 4, distinct: 5000, generated: 60000, elapsedMs: 1500, statesPerSecond: 10_000, queue: 10, levels: [1, 26, 291, 2035] };
  it('estimates the level under way from the ratio of the two before it', () => {
    const e = nextLevelEstimate(p)!;
    expect(e.states).toBeCloseTo((2035 * 2035) / 291, 5);
    expect(e.ms).toBeCloseTo(((2035 * 2035) / 291 / 10_000) * 1000, 5);
    expect(nextLevelEstimate({ ...p, levels: [1] })).toBeNull();
  });
  it('one line: depth of bound, states, rate, elapsed, estimate, memory', () => {
    expect(progressText(p, 6, 200 * 2 ** 20)).toBe('progress: depth 4/6 · 5,000 states · 10.0k/s · 1.5 s · 200 MiB · level ≈ 14.2k in 1.4 s');
    // a long run on this machine's scale still fits 80 columns once the in-place line drops its label
    const big = { ...p, depth: 9, distinct: 12_345_678, statesPerSecond: 95_123, elapsedMs: 130_000, levels: [1, 3e6, 11e6] };
    expect(visibleLength(progressText(big, 9, 2345 * 2 ** 20).replace(/^progress: /, ''))).toBeLessThanOrEqual(80);
  });
  it('on a terminal it is one line rewritten in place, cleared before the report', () => {
    const written: string[] = [];
    const tty = Object.assign(new Writable({ write: (c, _e, cb) => (written.push(String(c)), cb()) }), { isTTY: true, columns: 200 }) as unknown as NodeJS.WriteStream;
    const sink = progressSink(tty, 6);
    sink.update(p);
    sink.update({ ...p, distinct: 6000 });
    sink.done();
    const all = written.join('');
    expect(all).not.toContain('\n');
    expect(all.match(/depth 4\/6 · /g)).toHaveLength(2);
    expect(all.endsWith(`${ESC}1G${ESC}2K`)).toBe(true); // back to column 1, the line cleared
    const pipe: string[] = [];
    const plain = progressSink(Object.assign(new Writable({ write: (c, _e, cb) => (pipe.push(String(c)), cb()) }), { isTTY: false }) as unknown as NodeJS.WriteStream, 6);
    plain.update(p);
    expect(pipe).toHaveLength(1);
    expect(pipe[0]).toMatch(/^progress: depth 4\/6 · .* MiB · level ≈ [\d.,k]+ in .*\n$/);
  });

});

describe('replay --path: the token every report prints, accepted back', () => {
  it('re-executes it on the default universe and names every invariant violated', async () => {
    const r = await cli('replay', '--path', '28,55');
    expect(r.status).toBe(12);
    expect(r.stdout).toMatch(/^ {2}1\. add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\) → 0$/m);
    expect(r.stdout).toMatch(/^violated at depth 2: refcount-matches-holders: frame 4/m);
    expect(lines(r.stdout).at(-1)).toBe('verdict: 2 of 9 violated; exit 12');
  });

  it('with universe flags and --invariants, and clean when nothing is violated', async () => {
    const [fixed, mutant] = await Promise.all([cli('replay', '--path', '28,55', '--xen', 'xen-4.19', '--invariants', 'refcount-matches-holders'), cli('replay', '--path', '14', '--mutant', 'ept-write-without-put')]);
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/no invariant violated along the path/);
    expect(mutant.status, mutant.stderr).toBe(12);
    expect(mutant.stdout).toMatch(/mutant ept-write-without-put of xen-4.19/);
  });

  it.each([
    [['--path', '28,x'], /--path: expected a replay token/],
    [['--path', '28,999'], /--path: step 2: action index 999 is not enabled here/],
    [['--path', '28', 'some.itf.json'], /a trace file or --path, not both/],
    [[], /give a trace file/],
  ])('refuses %j with one line', async (args, message) => {
    expectUsageError(await cli('replay', ...args), message);
  });
});

describe('pictures of a counterexample', () => {
  let trace: string;
  beforeAll(async () => {
    const r = await cli('explore', '--depth', '2', '--invariants', 'refcount-matches-holders', '--trace-out', dir);
    expect(r.status).toBe(12);
    trace = join(dir, 'refcount-matches-holders.itf.json');
  });

  it('Markdown: the violation, the full configuration, projected steps, offending cells, the commands', async () => {
    const r = await cli('trace', 'show', trace, '--format', 'md');
    expect(r.status, r.stderr).toBe(0);
    const md = r.stdout;
    expect(md).toContain('> frame 4 (owner dom2, alive): count 2, expected 1');
    for (const row of ['| version | seed |', '| backend | ept |', '| domains | dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm |', '| build | debug |', '| mutant | — |']) expect(md).toContain(row);
    expect(md).toContain('Steps (the steps that touch frame 4):');
    expect(md).not.toContain('frames[2]'); // dom1's own frame, freed by the destroy: not about frame 4
    expect(md).toContain('- `frames[4] owner dom2, count 2, allocated true, m2p gfn 0`');
    expect(md).toContain('checker replay --path 28,55\n');
    expect(md).toContain(`checker replay ${trace}`);
    const whole = await cli('trace', 'show', trace, '--format', 'md', '--whole');
    expect(whole.stdout).toContain('frames[2]');
  });

  it('DOT: the last state red with the message and the offending cells, projected on the frame', async () => {
    const r = await cli('trace', 'show', trace, '--format', 'dot');
    const dot = r.stdout;
    expect(dot).toMatch(/label="refcount-matches-holders \(depth 2\), seed on ept, projected on frame 4"/);
    const last = /s2 \[label="([^"]*)", color=red/.exec(dot)![1]!;
    expect(last).toContain('✗ refcount-matches-holders:');
    expect(last).toContain('offending cells:\\lframes[4] owner dom2, count 2, allocated true, m2p gfn 0');
    expect(dot).not.toContain('frames[2]');
  });
});
