// `checker serve`: the web explorer on a local port until Ctrl-C.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { exposureWarning, ListenError, PageMissingError, startServer } from '../serve/server.js';
import { SEARCH_MAX_STATES } from '../serve/view.js';
import { loadServerVariants } from '../serve/targets.js';
import { EXIT, UsageError } from './common.js';
import { parsePositive } from './flags.js';

export const DEFAULT_PORT = 8470;
export const DEFAULT_TRACE_DIR = 'traces';

export interface ServeFlags {
  traceDir?: string;
  port?: string;
  host?: string;
  variant?: string[];
  maxStates?: string;
}

export { SEARCH_MAX_STATES };

function parsePort(v: string | undefined): number {
  if (v === undefined) return DEFAULT_PORT;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port: expected a port number from 0 to 65535 (0: any free port), got "${v}"`);
  return Number(v);
}

/** The folder of traces: the one given (which must exist), else ./traces when there is one. */
function traceDir(v: string | undefined): string | null {
  if (v === undefined) return existsSync(DEFAULT_TRACE_DIR) && statSync(DEFAULT_TRACE_DIR).isDirectory() ? resolve(DEFAULT_TRACE_DIR) : null;
  if (!existsSync(v)) throw new UsageError(`--trace-dir: ${v} does not exist`);
  if (!statSync(v).isDirectory()) throw new UsageError(`--trace-dir: ${v} is not a folder`);
  return resolve(v);
}

/** Serves until SIGINT or SIGTERM; resolves with the exit code. */
export async function runServe(f: ServeFlags, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const port = parsePort(f.port);
  const maxStates = parsePositive('--max-states', f.maxStates);
  const dir = traceDir(f.traceDir);
  const host = f.host ?? '127.0.0.1';
  const variants = await loadServerVariants(f.variant ?? []);
  let serving;
  try {
    serving = await startServer({ host, port, traceDir: dir, variants, maxStates, log: (l) => err(l + '\n') });
  } catch (e) {
    if (e instanceof ListenError || e instanceof PageMissingError) throw new UsageError(e.message);
    throw e;
  }
  // listening for Ctrl-C before the address is printed: whoever reads it may stop the server at once
  const stopped = new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void serving.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const warning = exposureWarning(host, serving.hosts);
  if (warning) err(warning + '\n');
  out(`checker serve: ${serving.url}  (traces: ${dir ?? 'none; drop a trace file on the page'}${variants.length ? `; variants: ${variants.map((v) => v.name).join(', ')}` : ''}; Ctrl-C to stop)\n`);
  await stopped;
  return EXIT.ok;
}
