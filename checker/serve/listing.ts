// The folder's trace files, listed without reading them: a trace written by the checker starts with
// its #meta (property, configuration, path), so the listing reads a file's first bytes only, however
// large the file, and never holds the thread while it reads.
import { open } from 'node:fs/promises';

/** The most of a file the listing reads: a #meta with a path of some 10,000 steps fits. */
export const HEAD_BYTES = 256 << 10;
const CHUNK = 16 << 10;

/** What a file's first bytes say: its #meta, or why it has none there. */
export type Head = { meta: Record<string, unknown> } | { none: 'not-json' | 'no-meta-first' | 'meta-too-long' };

/**
 * The #meta of a trace file, read from its start: the first key of the top-level object, parsed once
 * its closing brace is read. A file that is not JSON (as far as the bytes read go), whose first key is
 * another, or whose #meta does not end within HEAD_BYTES is described as such, not read further.
 */
export async function readHead(file: string): Promise<Head & { bytesRead: number }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    let len = 0;
    const scan = new MetaScanner();
    for (;;) {
      const { bytesRead } = await fh.read(buf, len, Math.min(CHUNK, HEAD_BYTES - len), len);
      const end = scan.feed(buf, len, len + bytesRead);
      len += bytesRead;
      if (end === 'bad') return { none: scan.sawFirstKey ? 'no-meta-first' : 'not-json', bytesRead: len };
      if (typeof end === 'number') {
        try {
          const meta = JSON.parse(buf.toString('utf8', scan.valueStart, end)) as unknown;
          if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return { none: 'not-json', bytesRead: len };
          return { meta: meta as Record<string, unknown>, bytesRead: len };
        } catch {
          return { none: 'not-json', bytesRead: len };
        }
      }
      if (bytesRead === 0) return { none: 'not-json', bytesRead: len };
      if (len >= HEAD_BYTES) return { none: 'meta-too-long', bytesRead: len };
    }
  } finally {
    await fh.close();
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const KEY = Buffer.from('"#meta"');

/**
 * Finds the end of `{ "#meta": VALUE` in bytes fed in order: where VALUE (an object) closes. Strings
 * are skipped with their escapes, so a brace inside a message does not count.
 */
class MetaScanner {
  private phase: 'open' | 'key' | 'colon' | 'value' | 'inside' = 'open';
  private keyAt = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  valueStart = 0;
  sawFirstKey = false;

  /** The offset just past the value once it closes, 'bad' when the bytes are not `{"#meta": {`, or null (feed more). */
  feed(b: Buffer, from: number, to: number): number | 'bad' | null {
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      switch (this.phase) {
        case 'open':
          if (WS.has(c)) continue;
          if (c !== 0x7b) return 'bad';
          this.phase = 'key';
          continue;
        case 'key':
          if (this.keyAt === 0) {
            if (WS.has(c)) continue;
            // a key (or an empty object) starts a JSON object that is no trace of ours; anything else is no JSON
            this.sawFirstKey = c === 0x22 || c === 0x7d;
          }
          if (c !== KEY[this.keyAt]) return 'bad';
          if (++this.keyAt === KEY.length) this.phase = 'colon';
          continue;
        case 'colon':
          if (WS.has(c)) continue;
          if (c !== 0x3a) return 'bad';
          this.phase = 'value';
          continue;
        case 'value':
          if (WS.has(c)) continue;
          if (c !== 0x7b) return 'bad';
          this.valueStart = i;
          this.depth = 1;
          this.phase = 'inside';
          continue;
        case 'inside':
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (c === 0x5c) this.escaped = true;
            else if (c === 0x22) this.inString = false;
          } else if (c === 0x22) this.inString = true;
          else if (c === 0x7b || c === 0x5b) this.depth++;
          else if ((c === 0x7d || c === 0x5d) && --this.depth === 0) return i + 1;
      }
    }
    return null;
  }
}
