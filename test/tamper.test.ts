// A trace file is data from anywhere: every value it records is compared with the model's, decoded
// (a count edited from 2 to 258 is not 2 because a byte wraps), and so is its message. The encoding
// itself refuses a value that does not fit its byte: a wrap would merge two states in the explorer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodingRangeError, encodeState, makeUniverse, makeXenModel } from '../model/index.js';
import { cli, expectUsageError } from './cli-run.js';

let dir: string;
let trace: any;
const PROP = 'refcount-matches-holders';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checker-tamper-'));
  const r = await cli('explore', '--depth', '2', '--invariants', PROP, '--trace-out', dir, '--json');
  expect(r.status, r.stderr).toBe(12);
  trace = JSON.parse(readFileSync(join(dir, `${PROP}.itf.json`), 'utf8'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function edited(name: string, edit: (t: any) => void): string {
  const t = structuredClone(trace);
  edit(t);
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(t));
  return p;
}

describe('an edited trace is refused by replay and trace show', () => {
  it('the untouched trace replays (the edits below are what is refused)', async () => {
    const r = await cli('replay', join(dir, `${PROP}.itf.json`));
    expect(r.status, r.stderr).toBe(12);
  });

  it.each([
    ['a count edited from 2 to 258 (a byte would wrap it back to 2)', '258'],
    ['a count edited from 2 to -254 (a byte would wrap it back to 2)', '-254'],
    ['a count beyond a safe integer', '99999999999999999999'],
  ])('%s', async (_what, value) => {
    expect(trace.states[1].frames['#map'][4][1].count).toEqual({ '#bigint': '2' });
    const p = edited(`count-${value}.itf.json`, (t) => (t.states[1].frames['#map'][4][1].count = { '#bigint': value }));
    const [replay, show] = await Promise.all([cli('replay', p), cli('trace', 'show', p)]);
    expectUsageError(replay, /states\[1\]|step 1/);
    expectUsageError(show, /states\[1\]|step 1/);
  });

  it('a value that differs names the cell, the recorded and the model value', async () => {
    const p = edited('named.itf.json', (t) => (t.states[1].frames['#map'][4][1].count = { '#bigint': '258' }));
    expectUsageError(await cli('replay', p), /frames\[4\]\.count: recorded 258, the model gives 2/);
  });

  it('an edited message is refused', async () => {
    const p = edited('message.itf.json', (t) => (t['#meta'].message = 'frame 4: nothing to see here'));
    const [replay, show] = await Promise.all([cli('replay', p), cli('trace', 'show', p)]);
    expectUsageError(replay, /#meta\.message/);
    expectUsageError(show, /#meta\.message/);
  });
});

describe('the encoding refuses a value that does not fit its byte', () => {
  const u = makeUniverse();
  const xm = makeXenModel(u);
  const out = new Uint8Array(xm.encodedSize);
  it.each([
    ['a count of 256', (s: any) => (s.frames[0].count = 256)],
    ['a negative count', (s: any) => (s.frames[0].count = -1)],
    ['a fractional count', (s: any) => (s.frames[0].count = 1.5)],
    ['an mfn of 300', (s: any) => (s.p2m[0][0] = { type: 'ram_rw', mfn: 300 })],
    ['an unknown p2m type', (s: any) => (s.p2m[0][0] = { type: 'ram_weird', mfn: 0 })],
    ['an unknown life', (s: any) => (s.domains[1].life = 'undead')],
  ])('%s', (_what, edit) => {
    const s = structuredClone(xm.init());
    expect(() => encodeState(s, out)).not.toThrow();
    edit(s);
    expect(() => encodeState(s, out)).toThrow(EncodingRangeError);
  });
  it('a count of 255 still fits', () => {
    const s = structuredClone(xm.init());
    s.frames[0]!.count = 255;
    expect(encodeState(s, out)[1]).toBe(255);
  });
});
