// What the browser tests share: the system's Chromium launched headless through playwright-core, the
// built command line's `checker serve` in a child process, and a folder for screenshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CLI, ROOT } from '../cli-run.js';

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
