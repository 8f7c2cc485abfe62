// What the browser tests share: the system's Chromium launched headless through playwright-core, the
// built command line's `checker serve` in a child process, a folder for screenshots, xen-4.19's race
// found by explore, and the checks every screen passes (axe-core, nothing outside the viewport).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { cli, CLI, ROOT } from '../cli-run.js';

/** Where screenshots and the step-render measurement go (.ci/run prints it). */
export const ARTEFACTS = process.env.CHECKER_ARTEFACTS ?? join(ROOT, 'artefacts', 'browser');

export function artefactDir(): string {
  mkdirSync(ARTEFACTS, { recursive: true });
  return ARTEFACTS;
}

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  // playwright-core gives every launch a fresh, temporary profile; the flags keep the browser from
  // reaching the network on its own (updates, sync, field trials)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `checker serve --port 0 ARGS` from the built command line, once it prints its address. */
export async function serve(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) done(m[0]);
    });
    child.on('exit', (code) => fail(new Error(`checker serve exited ${code} before listening: ${err}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.on('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** `checker explore ARGS --trace-out DIR`, which must find its violations (exit 12). */
export async function exploreInto(dir: string, ...args: string[]): Promise<void> {
  const r = await cli('explore', ...args, '--trace-out', dir);
  if (r.status !== 12) throw new Error(`checker explore ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

/** A folder of traces, checker serve on it, Chromium, and a page (not yet opened on anything). */
export interface Session {
  dir: string;
  traces: string;
  server: ServerProcess;
  browser: Browser;
  page: Page;
  /** Closes the browser, stops the server, removes the folder. */
  end(): Promise<void>;
}

/** A session whose trace folder `fill` writes first (`dir` is a scratch folder beside it). */
export async function startSession(fill: (traces: string, dir: string) => Promise<void>, page: BrowserContextOptions = {}): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'checker-browser-'));
  const traces = join(dir, 'traces');
  mkdirSync(traces);
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  const end = async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await fill(traces, dir);
    server = await serve(['--trace-dir', traces]);
    browser = await launchBrowser();
    return { dir, traces, server, browser, page: await browser.newPage({ viewport: { width: 1440, height: 900 }, ...page }), end };
  } catch (e) {
    await end();
    throw e;
  }
}

/** The trace of xen-4.19's race that global-setup.ts has explore write (waits for it, up to 5 minutes). */
export async function raceTrace(dir: string): Promise<string> {
  const exit = join(dir, 'race.exit');
  const end = Date.now() + 300_000;
  while (!existsSync(exit)) {
    if (Date.now() > end) throw new Error('checker explore did not find the race within 5 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const { code, stderr } = JSON.parse(readFileSync(exit, 'utf8')) as { code: number; stderr: string };
  if (code !== 12) throw new Error(`checker explore for the race exited ${code}: ${stderr}`);
  return join(dir, 'race', 'no-dangling-mapping.itf.json');
}

const require = createRequire(import.meta.url);
const AXE_SOURCE: string = (require('axe-core') as { source: string }).source;

/**
 * axe-core's serious and critical violations on the page as it is, one line each (rule, what it
 * says, the first elements). Injected through the debugging protocol: the page's CSP allows no script
 * of another origin.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join('; ')})`);
}

/**
 * The parts of the drawing and the violation messages that stick out of the viewport's width: every
 * shape and text of the state's drawing and of the vCPU lanes, and each violation line.
 */
export async function outsideViewport(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    const parts = document.querySelectorAll('svg.state, svg.state rect, svg.state text, svg.state path, svg.lanes, svg.lanes rect, .violations .violation, .trace-screen .violation.main');
    for (const el of parts) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < -0.5 || r.right > width + 0.5) {
        const what = el.getAttribute('data-frame') ?? el.closest('[data-frame]')?.getAttribute('data-frame') ?? '';
        out.push(`${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''}${what ? ` (frame ${what})` : ''}: ${Math.round(r.left)}..${Math.round(r.right)} of ${width}: ${(el.textContent ?? '').slice(0, 60)}`);
      }
    }
    return out;
  });
}

/** A screenshot of the whole page in the artefacts folder (from its top: the list on the left is sticky). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artefactDir(), name), fullPage: true });
}
