// `steps` granularity (MODEL.md §6): the same Xen functions run a segment at a time. With one vCPU,
// every hypercall run to its end in segments gives exactly the atomic model's state and return code,
// from every state the atomic model reaches (so the states at hypercall boundaries are the atomic
// ones, at every depth); the encoding round-trips mid-hypercall; the expected findings and the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS, VERSIONS } from '../model/index.js';
import { boundaryEquivalence } from './steps-helpers.js';
import { cliWithin } from './cli-run.js';

const runCli = async (args: string[]) => { const r = await cliWithin(120_000, args); return { code: r.status, stdout: r.stdout, stderr: r.stderr }; };

describe('steps granularity with one vCPU is the atomic model at hypercall boundaries', () => {
  for (const version of VERSIONS) {
    for (const backend of BACKENDS) {
      // depth 1 here (boundaries to depth 2); test/slow/steps-boundaries-*.test.ts go to depth 4 (boundaries to 5)
      it(`${version} on ${backend}, from every state within depth 1`, () => {
        expect(boundaryEquivalence(version, backend, 1)).toBeGreaterThan(100);
      }, 120_000);
    }
  }
});

describe('steps granularity: findings', () => {
  it('seed/ept: the put before the write in p2m_remove_foreign frees a frame T still maps (no-dangling-mapping)', async () => {
    const r = await runCli(['explore', '--granularity', 'steps', '--vcpus', '1', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--invariants', 'no-dangling-mapping', '--depth', '25', '--json', '--no-progress']);
    const j = JSON.parse(r.stdout);
    const p = j.properties.find((x: { name: string }) => x.name === 'no-dangling-mapping');
    expect(p.verdict).toBe('violated');
    expect(p.depth).toBe(25);
    expect(p.message).toMatch(/maps frame \d+, which is free/);
    const ops = p.trace.steps.map((s: { action: string }) => s.action);
    expect([...new Set(ops)]).toEqual(['add_to_physmap_foreign', 'decrease_reservation', 'remove_from_physmap']);
  }, 120_000);

  it('xen-4.5/ept: that window is closed (the temporary reference of get_page_from_gfn, the put after the write)', async () => {
    const r = await runCli(['explore', '--xen', 'xen-4.5', '--granularity', 'steps', '--vcpus', '1', '--ops', 'decrease_reservation,add_to_physmap_foreign,remove_from_physmap', '--invariants', 'no-dangling-mapping', '--depth', '25', '--json', '--no-progress']);
    const p = JSON.parse(r.stdout).properties.find((x: { name: string }) => x.name === 'no-dangling-mapping');
    expect(p.verdict).toBe('holds');
  }, 120_000);
});

describe('steps granularity: traces', () => {
  it('name the vCPU and where it stopped, replay from their file, and project onto one vCPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checker-steps-'));
    try {
      const r = await runCli(['explore', '--mutant', 'reuse-before-flush', '--depth', '15', '--no-progress', '--trace-out', dir]);
      expect(r.code).toBe(12);
      expect(r.stdout).toMatch(/vcpu\d: decrease_reservation\(dom\d, gfn=0\) ▸ stops in\s+guestRemovePage: before\s+put_page\(frame \d\)/);
      const file = join(dir, 'no-dangling-mapping.itf.json');
      const replay = await runCli(['replay', file]);
      expect(replay.code).toBe(12);
      const one = await runCli(['trace', 'show', file, '--vcpu', '1']);
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(/the segments of vcpu1/);
      expect(one.stdout).not.toMatch(/vcpu0:/);
      const bad = await runCli(['trace', 'show', file, '--vcpu', '2']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--vcpu: expected a vCPU from 0 to 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('steps granularity: the command line', () => {
  it.each([
    [['--granularity', 'steps', '--vcpus', '0'], /--vcpus: expected a whole number from 1 to 4, got "0"/],
    [['--vcpus', '2'], /--vcpus needs --granularity steps/],
    [['--por'], /--por .*needs --granularity steps/],
    [['--granularity', 'steps', '--por'], /--por: persistent sets are not built \(docs\/semantics\.md says why\)/],
    [['--granularity', 'fine'], /--granularity: unknown granularity "fine"/],
    [['--reduction', 'sleep'], /--reduction reduces interleavings of vCPUs: it needs --granularity steps/],
    [['--granularity', 'steps', '--reduction', 'persistent'], /--reduction: "persistent" is not one of sleep, none/],
  ])('%j is one clear line, exit 2', async (args, msg) => {
    const r = await runCli(['explore', ...args, '--depth', '1', '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('the report says what sleep sets pruned, in text and JSON; --reduction none steps every transition', async () => {
    const base = ['explore', '--granularity', 'steps', '--vcpus', '2', '--domains', 'dom0:pvh:hw,dom1:hvm', '--gfns', '1', '--spare-frames', '0', '--depth', '8', '--no-progress'];
    const text = await runCli(base);
    expect(text.stdout).toMatch(/partial-order reduction: sleep sets; [\d,]+ of [\d,]+ transitions not stepped \(\d+\.\d%\); the same states, depths and traces as without/);
    const sleep = JSON.parse((await runCli([...base, '--json'])).stdout);
    const none = JSON.parse((await runCli([...base, '--json', '--reduction', 'none'])).stdout);
    expect(sleep.reduction.method).toBe('sleep-sets');
    expect(sleep.reduction.pruned).toBeGreaterThan(0);
    expect(none.reduction).toBeNull();
    expect(sleep.totals.distinct).toBe(none.totals.distinct);
    expect(sleep.totals.generated + sleep.reduction.pruned).toBe(none.totals.generated);
    expect(sleep.properties).toEqual(none.properties);
  }, 120_000);
  it('simulate refuses steps granularity in one line, exit 2', async () => {
    const r = await runCli(['simulate', '--granularity', 'steps', '--runs', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/simulate walks whole hypercalls/);
  });
});
