// What the tests of checker serve's API share: raw requests (the path sent as written, headers as
// given), refusals, and the seed's universe as the page names it.
import { request, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import type { TargetSpec } from '../checker/serve/protocol.js';

export interface Reply {
  status: number;
  type: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request to 127.0.0.1:port (no client-side normalisation of `..`, the Host header as given). */
export function rawRequest(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A POST of JSON, as the page sends it. */
export const JSON_TYPE = { 'content-type': 'application/json' };

/** A refusal: the status, a JSON body with one error line. */
export function expectRefusal(r: Reply, status: number, pattern?: RegExp): void {
  expect(r.status, r.body).toBe(status);
  expect(r.type).toContain('application/json');
  const j = JSON.parse(r.body) as { error: string };
  expect(typeof j.error).toBe('string');
  expect(j.error).not.toContain('\n');
  if (pattern) expect(j.error).toMatch(pattern);
}

export const SEED: TargetSpec = {
  version: 'seed',
  backend: 'ept',
  domains: 'dom0:pvh:hw,dom1:pvh,dom2:hvm',
  gfns: 2,
  spareFrames: 1,
  ops: [],
  destroyableDom0: false,
  preemptibleTeardown: false,
  build: '',
  superpages: false,
  mutant: null,
  variant: null,
  granularity: 'atomic',
  vcpus: 0,
};

/** The lines of JSON a streamed search sends (Accept: application/x-ndjson). */
export function ndjson(body: string): Record<string, unknown>[] {
  return body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
