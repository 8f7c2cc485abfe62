// The server's API, apart from HTTP: a request (method, path, query, body) in, a status and a JSON
// value out. Every refusal is a RequestError with a 4xx status and one line.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BACKENDS, DEFAULT_DOMAINS, GRANULARITIES, makeUniverse, MUTANTS, OPERATIONS, VERSIONS } from '../../model/index.js';
import { TOOL } from '../paths.js';
import { TraceFormatError, traceToItf } from '../trace/itf.js';
import { shellJoin } from '../trace/command.js';
import { readTraceText } from '../trace/load.js';
import { compileCommand, reproducerC } from '../trace/reproducer.js';
import { readHead, type Head } from './listing.js';
import type { ExportView, Info, ReproducerView, SearchProgress, SearchView, SuccessorsView, TraceList, TraceListEntry, TraceView } from './protocol.js';
import { badRequest, INVARIANT_NAMES, RequestError, specOf, Targets, type ServerVariant } from './targets.js';
import { checkPath, MAX_SEARCH_DEPTH, search, SEARCH_MAX_STATES, successors, traceView, walkTrace, walkViolation } from './view.js';

export interface ApiRequest {
  method: string;
  /** The URL's path, e.g. /api/trace. */
  path: string;
  query: URLSearchParams;
  /** The body as text (POST), or ''. */
  body: string;
  /** Aborted when the client goes away: a search for it stops. */
  signal?: AbortSignal;
  /** Where a search reports its progress, when the client asked for it. */
  progress?: (p: SearchProgress) => void;
}

export interface ApiResponse {
  status: number;
  json: unknown;
}

/** Trace files larger than this are not opened (a 200-step trace is well under 1 MiB). */
export const MAX_TRACE_BYTES = 64 << 20;
/** Files listed from the folder at most (the first by name; the list says how many there are). */
export const MAX_LISTED = 1000;
/** The most vCPUs a universe may have (model/config.ts's --vcpus range). */
const MAX_VCPUS = 4;

export interface ApiOptions {
  /** Distinct states a search may store (default SEARCH_MAX_STATES). */
  maxStates?: number | undefined;
}

export class Api {
  readonly targets: Targets;
  readonly maxStates: number;
  /** The search under way (one at a time: it shares the thread with every other request), and how to stop it. */
  private running: { done: Promise<unknown>; stop: AbortController } | null = null;
  private stopped = false;
  /** Listing entries by file, kept while the file's size and mtime stay the same. */
  private readonly listed = new Map<string, { key: string; entry: TraceListEntry }>();
  /** Bytes the listing read from trace files since the server started (it reads their first bytes only). */
  listingBytesRead = 0;

  constructor(
    readonly traceDir: string | null,
    variants: readonly ServerVariant[],
    o: ApiOptions = {},
  ) {
    this.targets = new Targets(variants);
    this.maxStates = o.maxStates ?? SEARCH_MAX_STATES;
  }

  /** Stops the search under way, if any, and refuses new ones (the server is closing). */
  stop(): void {
    this.stopped = true;
    this.running?.stop.abort();
  }

  /** Whether a search is under way. */
  get searching(): boolean {
    return this.running !== null;
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
        return ok(await this.search(parseBody(req.body), req));
      case 'POST /api/export':
        return ok(await this.export(parseBody(req.body)));
      case 'POST /api/reproducer':
        return ok(await this.reproducer(parseBody(req.body)));
    }
    const known = ['/api/info', '/api/traces', '/api/trace', '/api/walk', '/api/successors', '/api/search', '/api/export', '/api/reproducer'];
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
      granularities: [...GRANULARITIES],
      maxVcpus: MAX_VCPUS,
      maxSearchDepth: MAX_SEARCH_DEPTH,
      maxStates: this.maxStates,
    };
  }

  /**
   * The trace files of the folder (*.json, not its subfolders), each with its property or why it
   * cannot be opened: the first MAX_LISTED by name, described from their first bytes (listing.ts),
   * read without holding the thread (a request that comes meanwhile is answered meanwhile).
   */
  async list(): Promise<TraceList> {
    if (this.traceDir === null) return { dir: null, traces: [], total: 0 };
    let names: string[];
    try {
      names = (await readdir(this.traceDir, { withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.endsWith('.json'))
        .map((e) => e.name)
        .sort();
    } catch {
      return { dir: this.traceDir, traces: [], total: 0 };
    }
    const traces: TraceListEntry[] = [];
    for (const name of names.slice(0, MAX_LISTED)) {
      const file = join(this.traceDir, name);
      let key: string;
      try {
        const st = await lstat(file);
        if (!st.isFile()) continue;
        key = `${st.size}:${st.mtimeMs}`;
      } catch {
        continue;
      }
      const hit = this.listed.get(name);
      if (hit && hit.key === key) {
        traces.push(hit.entry);
        continue;
      }
      const entry = await this.describe(name, file);
      this.listed.set(name, { key, entry });
      traces.push(entry);
    }
    return { dir: this.traceDir, traces, total: names.length };
  }

  private async describe(name: string, file: string): Promise<TraceListEntry> {
    const entry: TraceListEntry = { name, property: null, depth: null, configuration: null, error: null };
    let head: Head;
    try {
      const h = await readHead(file);
      this.listingBytesRead += h.bytesRead;
      head = h;
    } catch (e) {
      entry.error = `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
      return entry;
    }
    if ('none' in head) {
      if (head.none === 'not-json') entry.error = 'not valid JSON';
      // another tool's trace (its #meta elsewhere, or none): what it is about is found when it is opened
      else entry.configuration = head.none === 'meta-too-long' ? 'a long #meta: read when opened' : 'no #meta at its start (another tool’s trace?): read when opened';
      return entry;
    }
    try {
      const meta = head.meta;
      if (typeof meta.property !== 'string') throw badRequest('not a trace written by checker');
      entry.property = meta.property;
      entry.depth = Array.isArray(meta.path) ? meta.path.length : null;
      const c = (meta.configuration ?? {}) as Record<string, unknown>;
      const v = c.variant as { name?: unknown; sha256?: unknown } | string | undefined;
      const variantName = typeof v === 'object' && v !== null && typeof v.name === 'string' ? v.name : typeof v === 'string' ? v : null;
      const what = typeof c.mutant === 'string' ? `mutant ${c.mutant}` : variantName !== null ? `variant ${variantName}` : `${String(c.version)}`;
      const steps = c.granularity === 'steps' ? `, steps with ${String(c.vcpus)} vCPUs` : '';
      entry.configuration = `${what} on ${String(c.backend)}${steps}`;
      if (variantName !== null) this.targets.checkTraceVariant(v!, name);
    } catch (e) {
      entry.error = (e as Error).message;
    }
    return entry;
  }

  private async traceFromFolder(name: string | null): Promise<TraceView> {
    if (name === null || name === '') throw badRequest('name: which trace of the folder (see /api/traces)');
    if (this.traceDir === null) throw new RequestError(404, 'the server has no trace folder');
    // Only a file name of the folder, as the listing gives them: never a path, so nothing outside it is read.
    const missing = new RequestError(404, `no trace named ${JSON.stringify(name.slice(0, 200))} in the folder`);
    if (basename(name) !== name || name === '.' || name === '..' || !name.endsWith('.json')) throw missing;
    const file = join(this.traceDir, name);
    const st = await lstat(file).catch(() => null);
    if (st === null || !st.isFile()) throw missing;
    if (st.size > MAX_TRACE_BYTES) throw new RequestError(413, `${name} is larger than ${MAX_TRACE_BYTES >> 20} MiB`);
    return this.traceFromText(await readFile(file, 'utf8'), name, name);
  }

  private async traceFromText(text: string, name: string, source: string = name): Promise<TraceView> {
    if (text.trim() === '') throw badRequest('the trace is empty');
    const { r, meta, trace } = await this.targets.readTrace(text, name);
    return traceView('trace', `${meta.property} (depth ${meta.path.length})`, source, r, trace, meta.property);
  }

  /**
   * A path walked from the booted state. With `property` (a search's result, a dropped trace, opened
   * again from its link) the walk is shown as a counterexample of it, when it is one; with `from`, as
   * a search's result from that step.
   */
  private async walk(body: Record<string, unknown>): Promise<TraceView> {
    const r = await this.targets.resolve(body.target);
    const path = checkPath(r, body.path);
    const wanted = optionalProperty(body.property);
    if (body.from !== undefined && body.from !== null && (!Number.isInteger(body.from) || (body.from as number) < 0 || (body.from as number) > path.length)) {
      throw badRequest(`from: expected a step from 0 to ${path.length}`);
    }
    const from = (body.from ?? null) as number | null;
    const t = walkTrace(r, path);
    const title = typeof body.title === 'string' ? body.title.slice(0, 200) : from !== null ? searchTitle(from) : `a walk of ${path.length} step${path.length === 1 ? '' : 's'}`;
    const v = wanted === null ? null : walkViolation(r, t, wanted);
    if (v !== null) {
      t.property = v.property;
      t.message = v.message;
      t.frame = r.w.invariants.find((i) => i.name === v.property)?.subjectFrame?.(t.states[t.states.length - 1]!, r.w.pc) ?? null;
    }
    return traceView(from === null ? 'walk' : 'search', title, null, r, t, v?.property ?? null, from);
  }

  private async successors(body: Record<string, unknown>): Promise<SuccessorsView> {
    const r = await this.targets.resolve(body.target);
    return successors(r, checkPath(r, body.path));
  }

  private async search(body: Record<string, unknown>, req: ApiRequest): Promise<SearchView> {
    const r = await this.targets.resolve(body.target);
    const path = checkPath(r, body.path);
    const depth = body.depth;
    if (!Number.isInteger(depth) || (depth as number) < 1 || (depth as number) > MAX_SEARCH_DEPTH) {
      throw badRequest(`depth: expected a whole number from 1 to ${MAX_SEARCH_DEPTH}`);
    }
    if (this.stopped) throw new RequestError(503, 'the server is stopping');
    // One search at a time. One whose client has gone is stopping (within its next poll): wait for it.
    if (this.running?.stop.signal.aborted) await this.running.done;
    if (this.running) throw new RequestError(429, 'a search is already running; try again when it ends');
    const stop = new AbortController();
    const onGone = () => stop.abort();
    req.signal?.addEventListener('abort', onGone);
    const work = search(r, path, depth as number, searchTitle(path.length), {
      maxStates: this.maxStates,
      shouldStop: () => stop.signal.aborted,
      progress: req.progress,
    });
    this.running = { done: work.catch(() => undefined), stop };
    req.progress?.({ depth: 0, distinct: 0, generated: 0, elapsedMs: 0 });
    try {
      return await work;
    } finally {
      req.signal?.removeEventListener('abort', onGone);
      this.running = null;
    }
  }

  /**
   * A walk (or a search's result) as a trace file `checker replay` accepts: the ITF document explore
   * writes, of the property asked for or else the first violated along the walk.
   */
  private async export(body: Record<string, unknown>): Promise<ExportView> {
    const r = await this.targets.resolve(body.target);
    const path = checkPath(r, body.path);
    const wanted = optionalProperty(body.property);
    const t = walkTrace(r, path);
    const v = walkViolation(r, t, wanted);
    if (v === null) {
      throw badRequest(
        `${wanted === null ? 'nothing is violated' : `${wanted} is not violated`} along this walk: a trace file is a counterexample; replay the walk with its command (checker replay --path ...)`,
      );
    }
    const itf = traceToItf({
      u: r.target.u,
      property: v.property,
      message: v.message,
      path,
      states: t.states,
      actions: t.steps.map((s) => s.action),
      rcs: t.steps.map((s) => s.rc),
      tool: TOOL,
      mutant: r.target.mutant,
      variant: r.target.variantRecord,
    });
    const name = `${v.property}.itf.json`;
    return { name, itf, property: v.property, command: shellJoin(['checker', 'replay', name, ...(r.target.variant ? ['--variant', r.target.variant] : [])]) };
  }

  /**
   * A walk (or a search's result) as the C program `checker trace export --format c` writes: its
   * trace file, read back as the command line reads one, given to the same library function.
   */
  private async reproducer(body: Record<string, unknown>): Promise<ReproducerView> {
    const x = await this.export(body);
    const tf = await readTraceText(JSON.stringify(x.itf), x.name, { loaded: this.targets.variants });
    let r;
    try {
      r = reproducerC(tf);
    } catch (e) {
      // a trace no host can run (a mutant's, one that destroys dom0...): the user's one line
      if (e instanceof TraceFormatError) throw badRequest(e.message.replace(`${x.name}: `, ''));
      throw e;
    }
    const name = `${x.property}.c`;
    const program = x.property;
    return { name, source: r.source, property: x.property, kind: r.kind, notes: r.notes.filter((n) => !n.startsWith('kind ')), build: compileCommand(name, program), run: `./${program}` };
  }
}

const ok = (json: unknown): ApiResponse => ({ status: 200, json });

/** A search's result is named by where it started, found now or opened again from its link. */
const searchTitle = (from: number) => `shortest violation from step ${from}`;

function optionalProperty(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !INVARIANT_NAMES.includes(v)) throw badRequest(`property: expected one of ${INVARIANT_NAMES.join(', ')}`);
  return v;
}

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
