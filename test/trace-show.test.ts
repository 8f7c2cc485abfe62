// checker trace show and trace export-test on the seed's leak traces: the content of each format
// (changed cells, the reference ledger), projections, and exported tests that pass on the model and
// fail once the violation is gone.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithin, ROOT } from './cli-run.js';


const run = (args: string[], env: Record<string, string> = {}) => cliWithin(120_000, args, env);

let dir: string;
let leak: string; // refcount-matches-holders, depth 2
let orphan: string; // no-orphan-reference, depth 3

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checker-trace-'));
  const r = await run(['explore', '--depth', '3', '--invariants', 'refcount-matches-holders,no-orphan-reference', '--trace-out', dir]);
  expect(r.status).toBe(12);
  leak = join(dir, 'refcount-matches-holders.itf.json');
  orphan = join(dir, 'no-orphan-reference.itf.json');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace show', () => {
  it('text: numbered steps, return codes, changed cells, the message and the ledger of the leaked frame', async () => {
    const r = await run(['trace', 'show', leak]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/1\. add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\) → 0/);
    expect(r.stdout).toMatch(/2\. destroy\(dom1\) → 0/);
    expect(r.stdout).toContain('frames[4].count 1 → 2');
    expect(r.stdout).toContain('p2m[dom1][0] map_foreign(mfn 4) → empty');
    expect(r.stdout).toContain('reference ledger of frame 4:');
    expect(r.stdout).toMatch(/\+1 get_page in atomicWriteEptEntry\s+count 2 → 3/);
    expect(r.stdout).toMatch(/-1 put_page in p2mAddForeign\s+count 3 → 2/);
    expect(r.stdout).toContain('p2m[dom1][0] map_foreign(mfn 4) → empty: removed without put_page');
    expect(r.stdout).toContain('1 reference(s) held by nothing');
    // piped: no colour
    expect(r.stdout).not.toContain('\u001b[');
  });

  it("the orphan's ledger names relinquish_memory's puts", async () => {
    const r = await run(['trace', 'show', orphan]);
    expect(r.stdout).toMatch(/-1 put_page in relinquishMemory \(the allocation reference\)\s+count 3 → 2/);
    expect(r.stdout).toContain('now: count 1; holders: allocation 0 + 0 foreign entries; 1 reference(s) held by nothing');
  });

  it('--full prints the whole state at each step', async () => {
    const r = await run(['trace', 'show', leak, '--full']);
    expect(r.stdout).toContain('0. booted');
    expect(r.stdout.match(/frames\[6\] owner free/g)?.length).toBe(3); // booted, after step 1, after step 2
  });

  it('projection onto a domain drops the steps that do not touch it', async () => {
    const r = await run(['trace', 'show', leak, '--domain', 'dom2']);
    expect(r.stdout).toContain('projected on dom2');
    expect(r.stdout).toContain('1. add_to_physmap_foreign');
    expect(r.stdout).not.toMatch(/^\s+2\. destroy\(dom1\) →/m);
    expect(r.stdout).not.toContain('frames[2].owner');
  });

  it('projection onto a frame keeps only its cells and its ledger', async () => {
    const r = await run(['trace', 'show', orphan, '--frame', '5']);
    expect(r.stdout).toContain('projected on frame 5');
    expect(r.stdout).not.toMatch(/^\s+1\. add_to_physmap_foreign/m); // step 1 does not touch frame 5
    expect(r.stdout).toMatch(/^\s+3\. destroy\(dom2\) → 0/m);
    expect(r.stdout).toContain('frames[5].owner dom2 → free');
    expect(r.stdout).not.toContain('frames[4]');
    expect(r.stdout).toContain('reference ledger of frame 5:');
  });

  it('json: steps with their changes and ledger events', async () => {
    const r = await run(['trace', 'show', leak, '--format', 'json']);
    const j = JSON.parse(r.stdout);
    expect(j.property).toBe('refcount-matches-holders');
    expect(j.path).toEqual([28, 55]);
    expect(j.steps[0].changes).toContainEqual({ cell: 'frames[4].count', before: '1', after: '2' });
    expect(j.steps[0].ledger).toContainEqual(expect.objectContaining({ frame: 4, delta: 1, what: 'get_page', in: 'atomicWriteEptEntry' }));
    expect(j.ledger.at(-1)).toContain('1 reference(s) held by nothing');
  });

  it('dot: one node per state with its changed cells, one edge per hypercall, the last node red', async () => {
    const r = await run(['trace', 'show', leak, '--format', 'dot']);
    expect(r.stdout).toMatch(/^digraph counterexample \{/);
    expect(r.stdout).toMatch(/s0 -> s1 \[label="1\. add_to_physmap_foreign\(t=dom1, gT=0, f=dom2, gF=0\) → 0"\]/);
    expect(r.stdout).toMatch(/s1 -> s2 \[label="2\. destroy\(dom1\) → 0"\]/);
    expect(r.stdout).toMatch(/s2 \[label="[^"]*p2m\[dom1\]\[0\]: map_foreign\(mfn 4\) → empty[^"]*", color=red/);
  });

  it('md: a Markdown table with the changed cells and the ledger', async () => {
    const r = await run(['trace', 'show', leak, '--format', 'md']);
    expect(r.stdout).toContain('| # | hypercall | rc | changed cells |');
    expect(r.stdout).toContain('| 2 | `destroy(dom1)` | 0 |');
    expect(r.stdout).toContain('`frames[4].count` 1 → 2');
    expect(r.stdout).toContain('reference ledger of frame 4:');
  });

  it('malformed traces and bad options: exit 2, one line, no stack trace', async () => {
    const bad = join(dir, 'bad.itf.json');
    writeFileSync(bad, readFileSync(leak, 'utf8').slice(0, 200));
    for (const args of [['trace', 'show', bad], ['trace', 'show', join(dir, 'missing.itf.json')], ['trace', 'show', leak, '--format', 'svg'], ['trace', 'show', leak, '--frame', '99'], ['trace', 'show', leak, '--domain', 'dom9']]) {
      const r = await run(args);
      expect(r.status, args.join(' ')).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('trace export-test', () => {
  const outDir = join(ROOT, 'test', '.exported');
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  function vitest(file: string, env: Record<string, string> = {}): Promise<number | null> {
    return new Promise((done) => {
      execFile(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file], { cwd: ROOT, env: { ...process.env, ...env } }, (error) => {
        done(error ? (typeof error.code === 'number' ? error.code : null) : 0);
      });
    });
  }

  it('the exported test passes against the model and fails once a variant removes the violation', async () => {
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, 'seed-leak.test.ts');
    const r = await run(['trace', 'export-test', leak, '--out', file]);
    expect(r.status, r.stderr).toBe(0);
    const src = readFileSync(file, 'utf8');
    expect(src).toContain('28, // add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0)');
    expect(src).toContain('55, // destroy(dom1)');
    expect(await vitest(file)).toBe(0);
    expect(await vitest(file, { CHECKER_VARIANT: join(ROOT, 'docs', 'examples', 'seed-teardown-fixed.ts') })).not.toBe(0);
  });
});
