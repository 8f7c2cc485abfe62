// --version is the tool's version, as in TLC, Quint and npm; the Xen version is --xen. The old
// spelling --version NAME still picks the Xen version for one release, with one warning line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectUsageError, json, lines, ROOT } from './cli-run.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('--version and --xen', () => {
  it.each([[['--version']], [['-V']], [['explore', '--version']], [['simulate', '--version']]])('checker %j prints the tool version and exits 0', async (args) => {
    const r = await cli(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
    expect(r.stderr).toBe('');
  });

  it('--xen picks the Xen version', async () => {
    const r = await cli('explore', '--xen', 'xen-4.5', '--depth', '1', '--json');
    expect(r.stderr).toBe('');
    expect(json(r).configuration.version).toBe('xen-4.5');
  });

  it('the old spelling --version NAME still works, with one warning line on stderr', async () => {
    const r = await cli('explore', '--version', 'xen-4.5', '--depth', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(json(r).configuration.version).toBe('xen-4.5');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^checker: warning: --version xen-4\.5 is the old spelling of --xen xen-4\.5/);
  });

  it('--xen and --version that disagree are bad usage', async () => {
    const r = await cli('explore', '--xen', 'seed', '--version', 'head', '--depth', '1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--xen seed and --version head disagree/);
  });

  it('an unknown --xen names the flag', async () => {
    expectUsageError(await cli('explore', '--xen', 'xen-99'), /^checker: --xen: unknown version "xen-99"/);
  });
});
