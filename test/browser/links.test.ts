// Every view has its own address: the trace, the step, the frame projected on, a walk by hand (its
// universe and path), a search's result and a universe booted with steps granularity. Reload shows the
// same view; Back and Forward move between the views opened; a link opens the same view in another
// browser (a fresh context: no history, no cache, no storage).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exploreInto, startSession, type ServerProcess, type Session } from './setup.js';

let session: Session;
let server: ServerProcess;
let browser: Browser;
let page: Page;

const screen = (p: Page = page) => p.locator('.trace-screen');
const cursor = async (p: Page = page) => Number(await screen(p).getAttribute('data-cursor'));
const query = (p: Page = page) => new URL(p.url()).searchParams;
/** Until the address says `key=value` (stepping updates it once the keys stop). */
const addressHas = (key: string, value: string | null, p: Page = page) => p.waitForFunction(([k, v]) => new URLSearchParams(location.search).get(k!) === v, [key, value] as const);

/** The same view, in another browser: what a person sees who opens the link. */
async function elsewhere(url: string): Promise<{ p: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const p = await context.newPage();
  await p.goto(url);
  await screen(p).waitFor();
  return { p, close: () => context.close() };
}

beforeAll(async () => {
  session = await startSession((traces) => exploreInto(traces, '--depth', '3', '--invariants', 'refcount-matches-holders,no-orphan-reference'));
  ({ server, browser, page } = session);
  await page.goto(server.url);
  await page.locator('button[data-trace="refcount-matches-holders.itf.json"]').waitFor();
});

afterAll(() => session?.end());

describe('the address of a view', () => {
  it('names the trace, the step and the frame projected on; Reload shows the same view', async () => {
    await page.locator('button[data-trace="refcount-matches-holders.itf.json"]').click();
    await screen().waitFor();
    expect(query().get('trace')).toBe('refcount-matches-holders.itf.json');
    expect(query().get('step')).toBe('2');
    await page.keyboard.press('ArrowLeft');
    await addressHas('step', '1');
    await page.locator('svg.state g.frame[data-frame="4"]').click();
    await addressHas('frame', '4');
    await page.reload();
    await page.locator('.trace-screen[data-cursor="1"]').waitFor();
    await expect(page.locator('.projection').textContent()).resolves.toContain('projected on frame 4');
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('refcount-matches-holders (depth 2)');
  });

  it('a walk by hand is its universe and path: Back returns to the trace where it was, Forward to the walk', async () => {
    await page.locator('button.unproject').click();
    await addressHas('frame', null);
    await page.locator('button.take', { hasText: 'destroy(dom1)' }).click();
    await page.locator('.trace-screen[data-steps="2"][data-cursor="2"]').waitFor();
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('by hand, from refcount-matches-holders (depth 2) at step 1');
    const q = query();
    expect(q.get('trace')).toBeNull();
    expect(q.get('xen')).toBe('seed');
    expect(q.get('domains')).toBe('dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm');
    expect(q.get('path')).toBe('28,55');
    const walkUrl = page.url();
    await page.goBack();
    await page.locator('.trace-head .title', { hasText: 'refcount-matches-holders (depth 2)' }).waitFor();
    expect(await cursor()).toBe(1);
    expect(query().get('trace')).toBe('refcount-matches-holders.itf.json');
    await page.goForward();
    await page.locator('.trace-head .title', { hasText: 'by hand, from' }).waitFor();
    expect(page.url()).toBe(walkUrl);
    // the page's own back button is the browser's Back
    await page.locator('button.back').click();
    await page.locator('.trace-head .title', { hasText: 'refcount-matches-holders (depth 2)' }).waitFor();
    await page.goForward();
    await page.locator('.trace-head .title', { hasText: 'by hand, from' }).waitFor();
  });

  it('a link to the walk opens the same view in another browser', async () => {
    const { p, close } = await elsewhere(page.url());
    try {
      await expect(p.locator('.trace-head .title').textContent()).resolves.toBe('by hand, from refcount-matches-holders (depth 2) at step 1');
      expect(await cursor(p)).toBe(2);
      await expect(p.locator('.steps li[data-step="2"]').textContent()).resolves.toContain('destroy(dom1) → 0');
      await expect(p.locator('.violations .violation').first().textContent()).resolves.toContain('refcount-matches-holders');
    } finally {
      await close();
    }
  });

  it("a search's result is a link too: the same trace, from the same step, the same violation", async () => {
    await page.locator('.steps li[data-step="1"] button.go').click();
    await page.locator('input.depth').fill('2');
    await page.locator('button.search-button').click();
    await page.locator('.note', { hasText: 'nearest violation from step 1' }).waitFor();
    expect(query().get('from')).toBe('1');
    expect(query().get('property')).toBe('refcount-matches-holders');
    const shown = await page.locator('.violations .violation.main').textContent();
    const { p, close } = await elsewhere(page.url());
    try {
      await expect(p.locator('.trace-head .title').textContent()).resolves.toBe('shortest violation from step 1');
      await expect(p.locator('.violations .violation.main').textContent()).resolves.toBe(shown);
      await expect(p.locator('.steps li.step.before').count()).resolves.toBe(1);
    } finally {
      await close();
    }
  });

  it('a universe booted with steps granularity: its link opens its lanes elsewhere', async () => {
    await page.locator('select.version').selectOption('xen-4.19');
    await page.locator('select.granularity').selectOption('steps');
    await page.locator('input.vcpus').fill('2');
    await page.locator('input.ops-input').fill('decrease_reservation,add_to_physmap_foreign,remove_from_physmap');
    await page.locator('button.boot-button').click();
    await page.locator('.trace-head .dim', { hasText: 'steps, 2 vCPUs' }).waitFor();
    await page.locator('button.take', { hasText: 'vcpu0: add_to_physmap_foreign(t=dom0, gT=0, f=dom1, gF=0)' }).click();
    await page.locator('.trace-screen[data-steps="1"]').waitFor();
    const q = query();
    expect([q.get('xen'), q.get('granularity'), q.get('vcpus'), q.get('path')]).toEqual(['xen-4.19', 'steps', '2', '8']);
    const { p, close } = await elsewhere(page.url());
    try {
      await expect(p.locator('svg.lanes .lane').count()).resolves.toBe(2);
      await expect(p.locator('.vcpus li.vcpu[data-vcpu="0"]').textContent()).resolves.toBe('vcpu0 add_to_physmap_foreign(t=dom0, gT=0, f=dom1, gF=0) stopped in getPageFromGfn: before p2m_lock(dom1)');
    } finally {
      await close();
    }
  });

  it('Back from the first view opened returns to the landing page; a link to what is not there says so', async () => {
    const fresh = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await fresh.goto(server.url);
      await fresh.locator('button[data-trace="no-orphan-reference.itf.json"]').click();
      await screen(fresh).waitFor();
      await fresh.goBack();
      await fresh.locator('.welcome').waitFor();
      await fresh.goto(`${server.url}?trace=gone.itf.json`);
      await expect(fresh.locator('.error.banner').textContent()).resolves.toContain('no trace named "gone.itf.json" in the folder');
    } finally {
      await fresh.close();
    }
  });
});
