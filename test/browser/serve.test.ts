// checker serve's page in a real browser (the system's Chromium, headless): the seed's leak trace
// opened at its first violation with the leaked count drawn, the violations marked on the slider, a
// dangling arrow drawn red, an m2p violation marked on its frame, a trace projected onto a frame by
// mouse and by keyboard, an operation taken by hand, the nearest violation searched from the booted
// state, the trace list filtered, a trace dropped on the page, and a 200-step trace stepped through,
// each step's render timed and reported. Screenshots go to the artefacts folder (.ci/run prints where).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { longTrace } from './long-trace.js';
import { artefactDir, axeViolations, exploreInto, screenshot, startSession, type ServerProcess, type Session } from './setup.js';

let session: Session;
let traces: string;
let server: ServerProcess;
let page: Page;
let longProperty: string;
const requested: string[] = [];
const pageErrors: string[] = [];

const screen = () => page.locator('.trace-screen');
const cursor = async () => Number(await screen().getAttribute('data-cursor'));

async function openTrace(name: string): Promise<void> {
  await page.locator(`button[data-trace="${name}"]`).click();
  await page.locator('.trace-screen .trace-head .dim', { hasText: name }).waitFor();
}

const shot = (name: string) => screenshot(page, name);

beforeAll(async () => {
  session = await startSession(async (folder, dir) => {
    await exploreInto(folder, '--depth', '3', '--invariants', 'refcount-matches-holders,no-orphan-reference');
    // an M2P violation: the mutant that lets a domain map its own page foreign
    await exploreInto(join(dir, 'm2p'), '--mutant', 'no-self-map-check', '--depth', '3', '--invariants', 'm2p-consistent');
    writeFileSync(join(folder, 'm2p.itf.json'), readFileSync(join(dir, 'm2p', 'm2p-consistent.itf.json')));
    // a hypervisor fault: xen-4.5's ASSERT on a foreign entry's removal, two steps deep
    await exploreInto(join(dir, 'fault'), '--xen', 'xen-4.5', '--depth', '2', '--invariants', 'no-hypervisor-fault');
    writeFileSync(join(folder, 'fault.itf.json'), readFileSync(join(dir, 'fault', 'no-hypervisor-fault.itf.json')));
    const long = longTrace(200);
    longProperty = long.property;
    writeFileSync(join(folder, 'walk-200.itf.json'), JSON.stringify(long.itf));
  }, { viewport: { width: 1500, height: 1000 } });
  ({ traces, server, page } = session);
  page.on('request', (req) => requested.push(req.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  await page.locator('button[data-trace="refcount-matches-holders.itf.json"]').waitFor();
});

afterAll(() => session?.end());

describe("the seed's leak", () => {
  it('opens at its first violation: the leaked count of frame 4 drawn in red, with the violation and the ledger', async () => {
    await openTrace('refcount-matches-holders.itf.json');
    expect(await cursor()).toBe(2);
    await expect(page.locator('button.next').isDisabled()).resolves.toBe(true);
    const leak = page.locator('svg.state [data-leak="4"] tspan.leak');
    await expect(leak.textContent()).resolves.toContain('count 2, holders 1: 1 held by nothing');
    await expect(leak.evaluate((el) => getComputedStyle(el).fill)).resolves.toBe('rgb(180, 35, 24)');
    await expect(page.locator('.violations .violation.main').first().textContent()).resolves.toContain('refcount-matches-holders: frame 4 (owner dom2, alive): count 2, expected 1');
    await expect(page.locator('.ledger pre').textContent()).resolves.toContain('p2m[dom1][0] map_foreign(mfn 4) → empty: removed without put_page');
    // the step's changed cells: dom1's entry went empty, and is highlighted
    await expect(page.locator('svg.state g.entry.changed[data-entry="1:0"]').count()).resolves.toBe(1);
    // the table says it in words: frame 4, count 2, holders 1
    await expect(page.locator('.state-table tr[data-frame="4"]').textContent()).resolves.toMatch(/4dom221 \(allocation 1 \+ 0 foreign\) ✗ 1 held by nothing/);
    await shot('leak-trace-end.png');
  });

  it('the violations are marked on the slider; the booted state is one key away, the first violation one click', async () => {
    const marks = await page.locator('.marks .mark').evaluateAll((els) => els.map((e) => e.getAttribute('data-mark')));
    expect(marks).toEqual(['2']);
    await page.keyboard.press('Home');
    expect(await cursor()).toBe(0);
    await expect(page.locator('[data-leak]').count()).resolves.toBe(0);
    await page.locator('button.first-violation').click();
    expect(await cursor()).toBe(2);
    await expect(page.locator('button.first-violation').isDisabled()).resolves.toBe(true);
  });

  it('one step back: the foreign entry of dom1 is drawn as a foreign arrow to frame 4', async () => {
    await page.locator('button.prev').click();
    expect(await cursor()).toBe(1);
    const arrow = page.locator('svg.state path.arrow[data-from="1:0"]');
    await expect(arrow.getAttribute('data-to')).resolves.toBe('4');
    await expect(arrow.getAttribute('class')).resolves.toContain('foreign');
    await expect(page.locator('svg.state [data-leak]').count()).resolves.toBe(0);
  });

  it('after a trace is opened, Space and Enter act on the page, not on the button that opened it', async () => {
    await page.locator('button[data-trace="refcount-matches-holders.itf.json"]').click();
    await page.locator('.trace-screen[data-cursor="2"]').waitFor();
    await expect(page.evaluate(() => document.activeElement?.classList.contains('title'))).resolves.toBe(true);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Space');
    expect(await cursor()).toBe(1);
  });
});

describe('a dangling arrow, an m2p violation and a projection', () => {
  it("the orphan trace's end: a dead domain's stale entry to a free frame is a red arrow", async () => {
    await openTrace('no-orphan-reference.itf.json');
    await page.keyboard.press('End');
    expect(await cursor()).toBe(3);
    const dangling = page.locator('svg.state path.arrow.dangling');
    expect(await dangling.count()).toBeGreaterThan(0);
    const to = await dangling.first().getAttribute('data-to');
    await expect(page.locator(`svg.state g.frame.free[data-frame="${to}"]`).count()).resolves.toBe(1);
    await expect(dangling.first().evaluate((el) => getComputedStyle(el).stroke)).resolves.toBe('rgb(180, 35, 24)');
    await shot('orphan-trace-end.png');
  });

  it('a frame clicked projects the trace onto it: only the steps touching it, and its ledger', async () => {
    expect(await page.locator('.steps li[data-step]').count()).toBe(4);
    await page.locator('svg.state g.frame[data-frame="5"]').click();
    await expect(page.locator('.projection').textContent()).resolves.toContain('projected on frame 5');
    await expect(page.locator('.steps li[data-step="1"]').count()).resolves.toBe(0); // step 1 does not touch frame 5
    await expect(page.locator('.steps li[data-step="3"]').count()).resolves.toBe(1);
    await expect(page.locator('.steps li[data-step="3"]').textContent()).resolves.toContain('frames[5].owner dom2 → free');
    await expect(page.locator('.ledger pre').textContent()).resolves.toContain('reference ledger of frame 5:');
    await page.locator('button.unproject').click();
    expect(await page.locator('.steps li[data-step]').count()).toBe(4);
  });

  it('frames and domains take the focus (Tab) and project on Enter; the focus is visible', async () => {
    const frame = page.locator('svg.state g.frame[data-frame="5"]');
    await frame.focus();
    await expect(frame.getAttribute('aria-label')).resolves.toMatch(/^frame 5 · free .*: project the trace onto this frame$/);
    await page.keyboard.press('Enter');
    await expect(page.locator('.projection').textContent()).resolves.toContain('projected on frame 5');
    await expect(frame.evaluate((el) => getComputedStyle(el.querySelector('.box')!).strokeWidth)).resolves.toBe('3.5px');
    await page.keyboard.press('Space');
    await expect(page.locator('.projection').count()).resolves.toBe(0);
    // Tab from the frame before it reaches it: frames are in the tab order
    await page.locator('svg.state g.frame[data-frame="4"]').focus();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-frame'))).resolves.toBe('5');
  });

  it('a domain clicked projects the trace onto it: the steps that name it or change its cells', async () => {
    await page.locator('svg.state g.domain[data-domain="1"] g.head').click();
    await expect(page.locator('.projection').textContent()).resolves.toContain('projected on dom1');
    await expect(page.locator('.steps li[data-step="1"]').count()).resolves.toBe(1);
    await expect(page.locator('.steps li[data-step="2"]').count()).resolves.toBe(1);
    await expect(page.locator('.steps li[data-step="3"]').count()).resolves.toBe(0); // destroy(dom2) touches nothing of dom1
    await page.locator('svg.state g.domain[data-domain="1"] g.head').click(); // clicked again: everything
    await expect(page.locator('.projection').count()).resolves.toBe(0);
  });

  it('an m2p violation is marked on the frame and the entry its message names', async () => {
    await openTrace('m2p.itf.json');
    const message = await page.locator('.violations .violation.main').first().textContent();
    expect(message).toMatch(/^✗ m2p-consistent: p2m\[dom1\]\[0\] = ram_rw\(mfn (\d+)\), but frame \1's m2p is gfn 1$/);
    const m = /frame (\d+)/.exec(message!)![1]!;
    await expect(page.locator('svg.state g.entry.marked[data-entry="1:0"]').count()).resolves.toBe(1);
    const frame = page.locator(`svg.state g.frame.marked[data-frame="${m}"]`);
    await expect(frame.locator('tspan.mark').textContent()).resolves.toBe('✗ m2p-consistent');
    await expect(frame.locator('.box').evaluate((el) => getComputedStyle(el).stroke)).resolves.toBe('rgb(180, 35, 24)');
    await shot('m2p-marked.png');
  });
});

describe('a hypervisor fault', () => {
  it('reads: the FAULT return code and the fault line pass axe (contrast included)', async () => {
    await openTrace('fault.itf.json');
    expect(await cursor()).toBe(2);
    await expect(page.locator('.current-step .rc.fault').textContent()).resolves.toBe('FAULT');
    await expect(page.locator('.fault-line').textContent()).resolves.toMatch(/^hypervisor fault: /);
    await expect(page.locator('.steps li[data-step="2"] .rc.fault').textContent()).resolves.toBe('FAULT');
    await expect(page.locator('.explorer .note').textContent()).resolves.toContain('a faulted state has no successors');
    expect(await axeViolations(page)).toEqual([]);
    await shot('fault.png');
  });
});

describe('the trace list', () => {
  it('a filter keeps the traces whose name, property or configuration has every word', async () => {
    const all = await page.locator('.trace-list button.trace').count();
    expect(all).toBe(5);
    await page.locator('input.trace-filter').fill('mutant m2p');
    await expect(page.locator('.trace-list button.trace').evaluateAll((els) => els.map((e) => e.getAttribute('data-trace')))).resolves.toEqual(['m2p.itf.json']);
    await expect(page.locator('.list-count').textContent()).resolves.toBe('1 of 5 shown');
    await page.locator('input.trace-filter').fill('refcount');
    await expect(page.locator('.trace-list button.trace').count()).resolves.toBe(2);
    await page.locator('input.trace-filter').fill('');
    await expect(page.locator('.trace-list button.trace').count()).resolves.toBe(5);
  });
});

describe('exploring by hand', () => {
  it('an operation clicked is taken: the state changes and the walk goes on from there', async () => {
    await openTrace('refcount-matches-holders.itf.json');
    const frame4 = page.locator('svg.state g.frame[data-frame="4"]');
    const before = await frame4.textContent();
    expect(before).toContain('count 2');
    const op = page.locator('button.take', { hasText: 'decrease_reservation(dom2, gfn=0)' });
    await op.waitFor();
    await expect(op.textContent()).resolves.toContain('→ 0');
    await op.click();
    await page.locator('.trace-screen[data-steps="3"]').waitFor();
    expect(await cursor()).toBe(3);
    await expect(page.locator('.trace-head .title').textContent()).resolves.toMatch(/^by hand, from refcount-matches-holders/);
    const after = await frame4.textContent();
    expect(after).not.toBe(before);
    expect(after).toContain('count 1');
    await expect(page.locator('svg.state g.entry.empty.changed[data-entry="2:0"]').count()).resolves.toBe(1);
    await shot('hand-step.png');
    // back to the trace, where it was
    await page.locator('button.back').click();
    await page.locator('.trace-screen[data-steps="2"][data-cursor="2"]').waitFor();
  });

  it('from the booted state, the shortest violation is the leak at depth 2, said in explore’s words', async () => {
    await page.locator('button.boot-button').click();
    await page.locator('.trace-head .title', { hasText: 'a walk by hand from the booted state' }).waitFor();
    await page.locator('button.take').first().waitFor();
    await page.locator('input.depth').fill('3');
    await page.locator('button.search-button').click();
    await page.locator('.note', { hasText: 'nearest violation from step 0' }).waitFor();
    expect(await screen().getAttribute('data-steps')).toBe('2');
    await expect(page.locator('.note').first().textContent()).resolves.toContain('refcount-matches-holders, 2 steps further');
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('shortest violation from step 0');
    await expect(page.locator('.steps li[data-step="1"]').textContent()).resolves.toContain('add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0)');
    await expect(page.locator('svg.state [data-leak="4"]').count()).resolves.toBe(1);
  });

  it('a walk taken from the booted state keeps a title that says so, and grows one step at a time', async () => {
    await page.locator('button.boot-button').click();
    await page.locator('.trace-screen[data-steps="0"]').waitFor();
    await page.locator('button.take', { hasText: 'add_to_physmap_foreign(t=dom1, gT=0, f=dom2, gF=0)' }).click();
    await page.locator('.trace-screen[data-steps="1"]').waitFor();
    await page.locator('button.take', { hasText: 'destroy(dom1)' }).click();
    await page.locator('.trace-screen[data-steps="2"]').waitFor();
    await expect(page.locator('.trace-head .title').textContent()).resolves.toBe('a walk by hand from the booted state');
    await expect(page.locator('.position').textContent()).resolves.toBe('step 2 of 2');
    await expect(page.locator('.violations .violation').first().textContent()).resolves.toContain('refcount-matches-holders');
  });
});

describe('a universe chosen on the page', () => {
  it('booted with another version, its operations are listed from the booted state', async () => {
    await page.locator('select.version').selectOption('xen-4.19');
    await page.locator('button.boot-button').click();
    await page.locator('.trace-head .dim', { hasText: 'xen-4.19 on ept' }).waitFor();
    expect(await cursor()).toBe(0);
    // failing calls are listed too once asked for: populating a gfn that is mapped is -EEXIST
    const failing = page.locator('button.take', { hasText: 'populate_physmap(dom0, gfn=0)' });
    await page.locator('button.take').first().waitFor();
    await expect(failing.count()).resolves.toBe(0);
    await page.locator('input.only-changing').uncheck();
    await expect(failing.textContent()).resolves.toContain('→ -EEXIST');
    await expect(page.locator('.explorer').textContent()).resolves.toContain('57 of 57 operations shown');
    await page.locator('input.only-changing').check();
  });
});

describe('a trace of your own', () => {
  const text = () => readFileSync(join(traces, 'refcount-matches-holders.itf.json'), 'utf8');

  it('dropped on the page, it opens', async () => {
    await page.evaluate((t) => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'dropped.itf.json', { type: 'application/json' }));
      document.querySelector('section.drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text());
    await page.locator('.trace-head .dim', { hasText: 'dropped.itf.json' }).waitFor();
    expect(await screen().getAttribute('data-steps')).toBe('2');
  });

  it('chosen with the file picker (reachable by Tab), it opens; a file that is not a trace is one line in red', async () => {
    await page.locator('input.file').focus();
    await expect(page.evaluate(() => document.activeElement?.classList.contains('file'))).resolves.toBe(true);
    await page.locator('input.file').setInputFiles({ name: 'chosen.itf.json', mimeType: 'application/json', buffer: Buffer.from(text()) });
    await page.locator('.trace-head .dim', { hasText: 'chosen.itf.json' }).waitFor();
    await page.locator('input.file').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
    await expect(page.locator('.error.banner').textContent()).resolves.toContain('"vars" must list');
  });
});

describe('a 200-step trace', () => {
  it('key presses that come faster than the page renders each count', async () => {
    await openTrace('walk-200.itf.json');
    expect(await screen().getAttribute('data-steps')).toBe('200');
    await page.keyboard.press('Home');
    await page.evaluate(() => {
      for (let i = 0; i < 40; i++) window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    });
    await page.locator('.trace-screen[data-cursor="40"]').waitFor();
    await expect(page.locator('.steps li.current').getAttribute('data-step')).resolves.toBe('40');
    await page.keyboard.press('Home');
    expect(await cursor()).toBe(0);
  });

  it('steps through all 200 states; each step render is timed and reported', async () => {
    expect(await cursor()).toBe(0);
    // From a click on "next" to the step drawn and laid out (the page's script, the DOM update and
    // the layout it forces; the paint is the browser's next frame). Checked at every step: the step
    // number shown is the one clicked to.
    const times = await page.evaluate(async () => {
      const next = document.querySelector<HTMLButtonElement>('button.next')!;
      const out: number[] = [];
      for (let k = 1; k <= 200; k++) {
        const t0 = performance.now();
        next.click();
        await new Promise((r) => setTimeout(r, 0));
        document.querySelector('svg.state')!.getBoundingClientRect();
        out.push(performance.now() - t0);
        const shown = document.querySelector<HTMLElement>('.trace-screen')!.dataset.cursor;
        if (shown !== String(k)) throw new Error(`after ${k} clicks the page shows step ${shown}`);
      }
      return out;
    });
    expect(times).toHaveLength(200);
    expect(await cursor()).toBe(200);
    await expect(page.locator('.violations .violation', { hasText: longProperty }).count()).resolves.toBeGreaterThan(0);
    const sorted = [...times].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const report = {
      trace: 'walk-200.itf.json (200 steps, seed on ept)',
      measured: 'click on "next" → the step rendered and laid out, in the page (performance.now), 200 steps, at 1500×1000',
      medianMs: +q(0.5).toFixed(2),
      p95Ms: +q(0.95).toFixed(2),
      maxMs: +sorted[sorted.length - 1]!.toFixed(2),
      maxAtStep: times.indexOf(sorted[sorted.length - 1]!) + 1,
      meanMs: +(times.reduce((a, b) => a + b, 0) / times.length).toFixed(2),
      // the median issue 25 measured before this round, on its machine: reported beside, not asserted
      before: { medianMs: 64 },
    };
    writeFileSync(join(artefactDir(), 'step-render.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`step render on a 200-step trace: median ${report.medianMs} ms, p95 ${report.p95Ms} ms, max ${report.maxMs} ms (${join(artefactDir(), 'step-render.json')})`);
    await shot('walk-200-end.png');
  });
});

describe('the page on its own', () => {
  it('fetched nothing but from its server, and raised no script error', () => {
    const origin = new URL(server.url).origin;
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
