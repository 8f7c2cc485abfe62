// The server's API, apart from HTTP: a request (method, path, query, body) in, a status and a JSON
// value out. Every refusal is a RequestError with a 4xx status and one line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, DEFAULT_DOMAINS, makeUniverse, MUTANTS, OPERATIONS, VERSIONS } from '../../model/index.js';
import { TOOL } from '../paths.js';
import type { Info, SearchView, SuccessorsView, TraceList, TraceListEntry, TraceView } from './protocol.js';
import { badRequest, INVARIANT_NAMES, RequestError, specOf, Targets, type ServerVariant } from './targets.js';
import { checkPath, MAX_SEARCH_DEPTH, search, successors, traceView, walkTrace } from './view.js';

export interface ApiRequest {
  method: string;
  /** The URL's path, e.g. /api/trace. */
  path: string;
  query: URLSearchParams;
  /** The body as text (POST), or ''. */
  body: string;
}

export interface ApiResponse {
  status: number;
  json: unknown;
}

/** Trace files larger than this are not opened (a 200-step trace is well under 1 MiB). */
export const MAX_TRACE_BYTES = 64 << 20;
/** Files listed from the folder at most. */
const MAX_LISTED = 1000;

export class Api {
  readonly targets: Targets;
  private searching = false;
  /** Listing entries by file, kept while the file's size and mtime stay the same. */
  private readonly listed = new Map<string, { key: string; entry: TraceListEntry }>();

  constructor(
    readonly traceDir: string | null,
    variants: readonly ServerVariant[],
  ) {
    this.targets = new Targets(variants);
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const route = `${req.method} ${req.path}`;
    switch (route) {
      case 'GET /api/info':
        return ok(this.info());
      case 'GET /api/traces':
        return ok(await this.list());
      case 'GET /api/trace':
        return ok(await this.traceFromFolder(req.query.get('name')));
      case 'POST /api/trace':
        return ok(await this.traceFromText(req.body, req.query.get('name') ?? 'dropped trace'));
      case 'POST /api/walk':
        return ok(await this.walk(parseBody(req.body)));
      case 'POST /api/successors':
        return ok(await this.successors(parseBody(req.body)));
      case 'POST /api/search':
        return ok(await this.search(parseBody(req.body)));
    }
    const known = ['/api/info', '/api/traces', '/api/trace', '/api/walk', '/api/successors', '/api/search'];
    if (known.includes(req.path)) throw new RequestError(405, `${req.method} is not allowed on ${req.path}`);
    throw new RequestError(404, `no such path: ${req.path}`);
  }

  info(): Info {
    const u = makeUniverse();
    return {
      tool: TOOL,
      traceDir: this.traceDir,
      versions: [...VERSIONS],
      backends: [...BACKENDS],
      operations: [...OPERATIONS],
      mutants: MUTANTS.map((m) => ({ name: m.name, base: m.base })),
      variants: this.targets.variants.map((v) => ({ name: v.name, base: v.base, file: v.file })),
      invariants: INVARIANT_NAMES,
      defaults: { ...specOf(u, null, null), domains: DEFAULT_DOMAINS },
      maxSearchDepth: MAX_SEARCH_DEPTH,
    };
  }

  /** The trace files of the folder (*.json, not its subfolders), each with its property or why it cannot be opened. */
  async list(): Promise<TraceList> {
    if (this.traceDir === null) return { dir: null, traces: [] };
    let names: string[];
    try {
      names = readdirSync(this.traceDir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.json'))
        .map((e) => e.name)
        .sort()
        .slice(0, MAX_LISTED);
    } catch {
      return { dir: this.traceDir, traces: [] };
    }
    const traces: TraceListEntry[] = [];
    for (const name of names) {
      const file = join(this.traceDir, name);
      let key: string;
      try {
        const st = statSync(file);
        key = `${st.size}:${st.mtimeMs}`;
      } catch {
        continue;
      }
      const hit = this.listed.get(name);
      if (hit && hit.key === key) {
        traces.push(hit.entry);
        continue;
      }
      const entry = this.describe(name, file);
      this.listed.set(name, { key, entry });
      traces.push(entry);
    }
    return { dir: this.traceDir, traces };
  }

  private describe(name: string, file: string): TraceListEntry {
    const entry: TraceListEntry = { name, property: null, depth: null, configuration: null, error: null };
    try {
      if (statSync(file).size > MAX_TRACE_BYTES) throw badRequest(`larger than ${MAX_TRACE_BYTES >> 20} MiB`);
      const j = JSON.parse(readFileSync(file, 'utf8')) as { '#meta'?: Record<string, unknown> };
      const meta = j['#meta'];
      if (typeof meta !== 'object' || meta === null || typeof meta.property !== 'string') throw badRequest('not a trace written by checker');
      entry.property = meta.property;
      entry.depth = Array.isArray(meta.path) ? meta.path.length : null;
      const c = (meta.configuration ?? {}) as Record<string, unknown>;
      const v = c.variant as { name?: unknown; sha256?: unknown } | string | undefined;
      const variantName = typeof v === 'object' && v !== null && typeof v.name === 'string' ? v.name : typeof v === 'string' ? v : null;
      const what = typeof c.mutant === 'string' ? `mutant ${c.mutant}` : variantName !== null ? `variant ${variantName}` : `${String(c.version)}`;
      entry.configuration = `${what} on ${String(c.backend)}`;
      if (variantName !== null) this.targets.checkTraceVariant(v!, name);
    } catch (e) {
      entry.error = e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message;
    }
    return entry;
  }

  private async traceFromFolder(name: string | null): Promise<TraceView> {
    if (name === null || name === '') throw badRequest('name: which trace of the folder (see /api/traces)');
    if (this.traceDir === null) throw new RequestError(404, 'the server has no trace folder');
    // Only a name the listing gives: never a path, so nothing outside the folder is read.
    const { traces } = await this.list();
    if (!traces.some((t) => t.name === name)) throw new RequestError(404, `no trace named ${JSON.stringify(name)} in the folder`);
    const file = join(this.traceDir, name);
    if (statSync(file).size > MAX_TRACE_BYTES) throw new RequestError(413, `${name} is larger than ${MAX_TRACE_BYTES >> 20} MiB`);
    return this.traceFromText(readFileSync(file, 'utf8'), name, name);
  }

  private async traceFromText(text: string, name: string, source: string = name): Promise<TraceView> {
    if (text.trim() === '') throw badRequest('the trace is empty');
    const { r, meta, trace } = await this.targets.readTrace(text, name);
    return traceView('trace', `${meta.property} (depth ${meta.path.length})`, source, r, trace, meta.property);
  }

  private async walk(body: Record<string, unknown>): Promise<TraceView> {
    const r = await this.targets.resolve(body.target);
    const path = checkPath(r, body.path);
    const title = typeof body.title === 'string' ? body.title.slice(0, 200) : `a walk of ${path.length} step${path.length === 1 ? '' : 's'}`;
    return traceView('walk', title, null, r, walkTrace(r, path), null);
  }

  private async successors(body: Record<string, unknown>): Promise<SuccessorsView> {
    const r = await this.targets.resolve(body.target);
    return successors(r, checkPath(r, body.path));
  }

  private async search(body: Record<string, unknown>): Promise<SearchView> {
    const r = await this.targets.resolve(body.target);
    const path = checkPath(r, body.path);
    const depth = body.depth;
    if (!Number.isInteger(depth) || (depth as number) < 1 || (depth as number) > MAX_SEARCH_DEPTH) {
      throw badRequest(`depth: expected a whole number from 1 to ${MAX_SEARCH_DEPTH}`);
    }
    // One search at a time: it shares the thread with every other request.
    if (this.searching) throw new RequestError(429, 'a search is already running; try again when it ends');
    this.searching = true;
    try {
      return await search(r, path, depth as number, `shortest violation from step ${path.length}`);
    } finally {
      this.searching = false;
    }
  }
}

const ok = (json: unknown): ApiResponse => ({ status: 200, json });

function parseBody(body: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('the body must be a JSON object');
  return v as Record<string, unknown>;
}
