// xen-4.19's race at --granularity steps, as checker explore finds it (global-setup.ts), in the page:
// opened at its violation with a lane per vCPU, stepped (where each vCPU stopped, locks, TLB flushes,
// references held by calls in flight counted as holders: no frame drawn as a leak while the invariants
// see none), explored by hand to a violation of its own, exported as a trace file and replayed by the
// command line to the same violation, and as the C reproducer the command line would write; searched
// from its middle, and a long search cancelled.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli } from '../cli-run.js';
import { raceTrace, screenshot, startSession, type Session } from './setup.js';

let session: Session;
let dir: string;
let page: Page;
const pageErrors: string[] = [];
const MESSAGE = 'p2m[dom0][0] = map_foreign(mfn 2) (alive domain) maps frame 2, which is free';

const screen = () => page.locator('.trace-screen');
const cursor = async () => Number(await screen().getAttribute('data-cursor'));
const lane = (v: number) => page.locator(`svg.lanes .lane[data-vcpu="${v}"]`);
const vcpuLine = (v: number) => page.locator(`.vcpus li.vcpu[data-vcpu="${v}"]`);

beforeAll(async () => {
  session = await startSession(async (traces) => copyFileSync(await raceTrace(inject('raceDir')), join(traces, 'race.itf.json')), { acceptDownloads: true });
  ({ dir, page } = session);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(session.server.url);
  await page.locator('button[data-trace="race.itf.json"]').waitFor();
});

afterAll(() => session?.end());

describe("xen-4.19's race, at steps granularity", () => {
  it('is listed as a steps trace, and opens at its violation with a lane per vCPU', async () => {
    await expect(page.locator('button[data-trace="race.itf.json"]').textContent()).resolves.toContain('no-dangling-mapping · depth 25 · xen-4.19 on ept, steps with 2 vCPUs');
    await page.locator('button[data-trace="race.itf.json"]').click();
    await page.locator('.trace-screen[data-steps="25"]').waitFor();
    expect(await cursor()).toBe(25);
    await expect(page.locator('.trace-head .dim').textContent()).resolves.toContain('steps, 2 vCPUs');
    await expect(page.locator('.violations .violation.main').textContent()).resolves.toBe(`✗ no-dangling-mapping: ${MESSAGE}`);
    // the lanes: vcpu0 ran 19 segments (two calls), vcpu1 six (one call, still in flight); the last step is vcpu1's
    await expect(lane(0).locator('rect.segment').count()).resolves.toBe(19);
    await expect(lane(1).locator('rect.segment').count()).resolves.toBe(6);
    await expect(lane(0).locator('rect.segment.ends').count()).resolves.toBe(1);
    await expect(lane(1).locator('rect.segment.current').getAttribute('data-step')).resolves.toBe('25');
    // in words, as the command line says it
    await expect(vcpuLine(1).textContent()).resolves.toBe(
      'vcpu1 remove_from_physmap(dom0, gfn=0) stopped in atomicWriteEptEntry: before write(p2m[dom0][0]) · holds the p2m lock of dom0 · holds 1 reference on frame 0 · dropped 1 reference early on frame 2',
    );
    await expect(vcpuLine(0).textContent()).resolves.toContain('decrease_reservation(dom1, gfn=0) stopped in guestRemovePage: before p2m_unlock(dom1) · holds the p2m lock of dom1');
    await expect(page.locator('.vcpus li.tlb.stale').textContent()).resolves.toBe("dom1's TLB may still translate to frame 2: flush pending; the frame was freed and handed out again");
    // the drawing: the locks, the stale TLB entry as a red dotted arrow, the dangling entry marked
    await expect(page.locator('svg.state g.domain[data-domain="0"] tspan.lock').textContent()).resolves.toBe('p2m lock: vcpu1');
    await expect(page.locator('svg.state path.arrow.tlb.stale[data-tlb="1:2"]').count()).resolves.toBe(1);
    await expect(page.locator('svg.state g.entry.marked[data-entry="0:0"]').count()).resolves.toBe(1);
    await screenshot(page, 'race-violation-1440.png');
  });

  it('stepped: where each vCPU stands; a reference a call in flight holds is a holder, never a leak', async () => {
    await page.keyboard.press('Home');
    expect(await cursor()).toBe(0);
    await expect(vcpuLine(0).textContent()).resolves.toBe('vcpu0 idle');
    for (let k = 1; k <= 25; k++) {
      await page.keyboard.press('ArrowRight');
      await page.locator(`.trace-screen[data-cursor="${k}"]`).waitFor();
      // the invariants see no refcount violation along the race: the drawing and the table agree
      expect(await page.locator('svg.state [data-leak]').count(), `step ${k}`).toBe(0);
      expect(await page.locator('.state-table tr.leaked').count(), `step ${k}`).toBe(0);
      if (k === 20) {
        await expect(vcpuLine(0).textContent()).resolves.toContain('stopped in atomicWriteEptEntry: before write(p2m[dom1][0]) · holds the p2m lock of dom1 · holds 1 reference on frame 2');
        await expect(page.locator('svg.state g.frame[data-frame="2"] tspan.in-flight').textContent()).resolves.toBe('in flight: vcpu0 +1');
        await expect(page.locator('.state-table tr[data-frame="2"]').textContent()).resolves.toContain('3 (allocation 1 + 1 foreign + 1 in flight)');
        await expect(page.locator('svg.state g.domain[data-domain="1"] tspan.lock').textContent()).resolves.toBe('p2m lock: vcpu0 ×2');
        await expect(page.locator('.this-step').textContent()).resolves.toContain('p2m_lock[dom1] vcpu0 → vcpu0 (depth 2)');
        await expect(lane(0).locator('rect.segment.current').getAttribute('data-step')).resolves.toBe('20');
        await screenshot(page, 'race-step-20-1440.png');
      }
    }
    // a segment of a lane clicked is a step to go to
    await lane(1).locator('rect.segment[data-step="6"]').click();
    expect(await cursor()).toBe(6);
    await expect(vcpuLine(1).textContent()).resolves.toContain('remove_from_physmap(dom0, gfn=0) stopped in getPageFromGfn: before get_page(frame 0) · holds the p2m lock of dom0');
  });

  it('explored by hand to a violation of its own, exported, and replayed by the command line to the same violation', async () => {
    await page.locator('.steps li[data-step="24"] button.go').click();
    expect(await cursor()).toBe(24);
    // vcpu0 ends its call first (unlocking dom1), then vcpu1 writes the entry
    const finish = page.locator('button.take', { hasText: 'vcpu0: decrease_reservation(dom1, gfn=0) → 0' });
    await finish.click();
    await page.locator('.trace-screen[data-steps="25"][data-cursor="25"]').waitFor();
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('by hand, from no-dangling-mapping (depth 25) at step 24');
    await expect(vcpuLine(0).textContent()).resolves.toBe('vcpu0 idle');
    const write = page.locator('li.op.violates', { hasText: 'vcpu1: remove_from_physmap(dom0, gfn=0) ▸ stops in atomicWriteEptEntry' });
    await expect(write.locator('.violation').first().textContent()).resolves.toContain('no-dangling-mapping');
    await write.locator('button.take').click();
    await page.locator('.trace-screen[data-steps="26"][data-cursor="26"]').waitFor();
    await expect(page.locator('.violations .violation', { hasText: 'no-dangling-mapping' }).textContent()).resolves.toBe(`✗ no-dangling-mapping: ${MESSAGE}`);
    await screenshot(page, 'race-by-hand-1440.png');

    // the file
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('button.export-itf').click()]);
    expect(download.suggestedFilename()).toBe('no-dangling-mapping.itf.json');
    const file = join(dir, 'by-hand.itf.json');
    await download.saveAs(file);
    await expect(page.locator('.keep .saved code.command').textContent()).resolves.toBe('checker replay no-dangling-mapping.itf.json');
    const replayed = await cli('replay', file);
    expect(replayed.status, replayed.stderr).toBe(12);
    expect(replayed.stdout).toContain('26 steps, property no-dangling-mapping');
    expect(replayed.stdout).toContain(`still violated: no-dangling-mapping: ${MESSAGE}`);

    // the same walk as a C program for a Xen host: what checker trace export --format c writes of the file
    const [program] = await Promise.all([page.waitForEvent('download'), page.locator('button.export-c').click()]);
    expect(program.suggestedFilename()).toBe('no-dangling-mapping.c');
    const source = join(dir, 'by-hand.c');
    await program.saveAs(source);
    await expect(page.locator('.keep .program').textContent()).resolves.toContain('build it on the host with gcc -Wall -Wextra -Werror -O2 -o no-dangling-mapping no-dangling-mapping.c -lxenctrl -lpthread');
    mkdirSync(join(dir, 'c'));
    copyFileSync(file, join(dir, 'c', 'no-dangling-mapping.itf.json'));
    const exported = await cli('trace', 'export', '--format', 'c', join(dir, 'c', 'no-dangling-mapping.itf.json'), '--out', join(dir, 'c', 'no-dangling-mapping.c'));
    expect(exported.status, exported.stderr).toBe(0);
    expect(readFileSync(source, 'utf8')).toBe(readFileSync(join(dir, 'c', 'no-dangling-mapping.c'), 'utf8'));

    // the command shown: every flag of the universe with the token, never the token alone
    const command = (await page.locator('.keep .replay-command code.command').textContent())!;
    expect(command).toMatch(/^checker replay --path [\d,]+ --xen xen-4\.19 --backend ept --domains dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm --gfns 2 --spare-frames 1 --ops decrease_reservation,add_to_physmap_foreign,remove_from_physmap --build debug --granularity steps --vcpus 2$/);
    const token = await cli(...command.split(' ').slice(1));
    expect(token.status, token.stderr).toBe(12);
    expect(token.stdout).toContain(`violated at depth 26: no-dangling-mapping: ${MESSAGE}`);
  });

  it('searched from the middle of the race: the nearest violation, as a trace from the booted state', async () => {
    await page.locator('button.back').click();
    await page.locator('.trace-screen[data-steps="25"]').waitFor();
    await page.locator('.steps li[data-step="20"] button.go').click();
    expect(await cursor()).toBe(20);
    await page.locator('input.depth').fill('8');
    await page.locator('button.search-button').click();
    await page.locator('.note', { hasText: 'nearest violation from step 20' }).waitFor();
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('shortest violation from step 20');
    const steps = Number(await screen().getAttribute('data-steps'));
    expect(steps).toBeGreaterThan(20);
    expect(steps).toBeLessThanOrEqual(25);
    // the steps before the search's start are the race's own, shown as such
    await expect(page.locator('.steps li.step.before').count()).resolves.toBe(20);
  });

  it('a long search shows its progress and is cancelled; the server stops it and takes the next one', async () => {
    await page.locator('.steps li[data-step="0"] button.go').click();
    expect(await cursor()).toBe(0);
    await page.locator('input.depth').fill('25');
    await page.locator('button.search-button').click();
    const progress = page.locator('.search-progress');
    await progress.waitFor();
    await page.locator('.search-progress', { hasText: /depth [1-9]/ }).waitFor();
    await expect(progress.textContent()).resolves.toMatch(/^searching: depth \d+, [\d,]+ states, [\d.]+ s \(at most 1,000,000 states\)$/);
    await screenshot(page, 'race-search-progress-1440.png');
    await page.locator('button.cancel-search').click();
    await expect(page.locator('.search-note').textContent()).resolves.toBe('search cancelled');
    // the next search runs (no 429: the cancelled one stopped on the server)
    await page.locator('input.depth').fill('2');
    await page.locator('button.search-button').click();
    await expect(page.locator('.search-note').textContent()).resolves.toMatch(/^from step 0, every invariant not already violated there holds to depth 2; bound reached: depth 2; [\d,]+ states in/);
  });

  it('raised no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
