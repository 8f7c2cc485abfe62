// Every screen: the landing page, the seed's leak, xen-4.19's race (steps granularity), the explorer
// and a search's result at 1440×900, 1024×700, 390×844 and 360×740, each screenshot to the artefacts
// folder; no part of the drawing nor the violated invariant's message outside the viewport's width;
// at 1440×900 the ledger beside the drawing and in view; the list folded behind a button on narrow
// screens; the drawing zoomed; dark mode; and axe-core finding no serious or critical violation,
// light and dark.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { axeViolations, exploreInto, outsideViewport, raceTrace, screenshot, startSession, type Session } from './setup.js';

let session: Session;
/** The race's trace, in the folder once explore has found it (the tests that need it come last). */
let race: Promise<void>;

const SIZES = [
  { name: '1440x900', width: 1440, height: 900 },
  { name: '1024x700', width: 1024, height: 700 },
  { name: '390x844', width: 390, height: 844 },
  { name: '360x740', width: 360, height: 740 },
] as const;

beforeAll(async () => {
  session = await startSession((traces) => exploreInto(traces, '--depth', '3', '--invariants', 'refcount-matches-holders,no-orphan-reference'));
  race = raceTrace(inject('raceDir')).then((file) => copyFileSync(file, join(session.traces, 'race.itf.json')));
});

afterAll(() => session?.end());

/** Nothing of the drawing or of a violation's message outside the width, nothing serious for axe; a screenshot. */
async function passes(page: Page, name: string): Promise<void> {
  expect(await outsideViewport(page)).toEqual([]);
  expect(await axeViolations(page)).toEqual([]);
  await screenshot(page, name);
}

async function open(size: (typeof SIZES)[number], query: string, scheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await session.browser.newPage({ viewport: { width: size.width, height: size.height }, colorScheme: scheme });
  await page.goto(`${session.server.url}${query}`);
  if (query === '') await page.locator('button[data-trace]').first().waitFor();
  else await page.locator('.trace-screen').waitFor();
  return page;
}

describe.each(SIZES)('at $name', (size) => {
  it('the landing page: the list at hand (not folded away), nothing serious for axe', async () => {
    const page = await open(size, '');
    await expect(page.locator('aside').isVisible()).resolves.toBe(true);
    await expect(page.locator('button[data-trace="refcount-matches-holders.itf.json"]').isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, `landing-${size.name}.png`);
    await page.close();
  });

  it("the seed's leak: drawing and message within the width; the ledger beside the drawing on a wide screen", async () => {
    const page = await open(size, '?trace=refcount-matches-holders.itf.json');
    await page.locator('svg.state [data-leak="4"]').waitFor();
    await passes(page, `leak-${size.name}.png`);
    const drawing = (await page.locator('.drawing-pane').boundingBox())!;
    const ledger = (await page.locator('.ledger').boundingBox())!;
    if (size.width >= 1280) {
      // beside it, and in view at the violating step
      expect(ledger.x).toBeGreaterThanOrEqual(drawing.x + drawing.width);
      expect(ledger.y + 40).toBeLessThan(size.height);
    } else {
      expect(ledger.y).toBeGreaterThan(drawing.y);
    }
    await page.close();
  });

  it('the explorer (a walk by hand) and a search’s result: within the width, nothing serious for axe', async () => {
    const page = await open(size, '?xen=seed&domains=dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm&gfns=2&spare-frames=1&path=28');
    await page.locator('button.take').first().waitFor();
    await passes(page, `explorer-${size.name}.png`);
    await page.locator('input.depth').fill('2');
    await page.locator('button.search-button').click();
    await page.locator('.note', { hasText: 'nearest violation from step 1' }).waitFor();
    await passes(page, `search-${size.name}.png`);
    await page.close();
  });
});

describe('narrow screens', () => {
  it('the list folds behind a named button, opens over the page, and closes when a trace is opened', async () => {
    const page = await open(SIZES[2], '?trace=refcount-matches-holders.itf.json');
    const menu = page.locator('button.menu');
    await page.locator('aside').waitFor({ state: 'hidden' });
    await expect(menu.getAttribute('aria-expanded')).resolves.toBe('false');
    await menu.click();
    await expect(menu.getAttribute('aria-expanded')).resolves.toBe('true');
    await page.locator('aside').waitFor({ state: 'visible' });
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'list-open-390x844.png');
    await page.locator('button[data-trace="no-orphan-reference.itf.json"]').click();
    await page.locator('.trace-screen[data-steps="3"]').waitFor();
    await page.locator('aside').waitFor({ state: 'hidden' });
    await page.close();
  });

  it('the drawing fits the width, and zooms (the pane then scrolls, the page does not)', async () => {
    const page = await open(SIZES[2], '?trace=refcount-matches-holders.itf.json');
    const svg = page.locator('svg.state');
    const fit = (await svg.boundingBox())!.width;
    expect(fit).toBeLessThanOrEqual(390);
    await page.locator('button.zoom-in').click();
    const zoomed = (await svg.boundingBox())!.width;
    expect(zoomed).toBeCloseTo(fit * 1.5, 0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await page.locator('button.zoom-fit').click();
    expect((await svg.boundingBox())!.width).toBeCloseTo(fit, 0);
    await page.close();
  });
});

describe.each(SIZES)("xen-4.19's race at $name", (size) => {
  it('at its violation: lanes, drawing and message within the width, nothing serious for axe', async () => {
    await race;
    const page = await open(size, '?trace=race.itf.json');
    await page.locator('svg.lanes').waitFor();
    await page.locator('svg.state g.entry.marked').first().waitFor();
    await passes(page, `race-${size.name}.png`);
    await page.close();
  });
});

describe('dark mode', () => {
  it('follows prefers-color-scheme, and reads as well: nothing serious for axe', async () => {
    await race;
    for (const query of ['', '?trace=refcount-matches-holders.itf.json', '?trace=race.itf.json']) {
      const page = await open(SIZES[0], query, 'dark');
      await expect(page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).resolves.toBe('rgb(18, 21, 27)');
      expect(await axeViolations(page), query).toEqual([]);
      if (query !== '') await screenshot(page, `dark-${query.includes('race') ? 'race' : 'leak'}-1440x900.png`);
      await page.close();
    }
    const light = await open(SIZES[0], '');
    await expect(light.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).resolves.toBe('rgb(251, 252, 254)');
    await light.close();
  });
});
