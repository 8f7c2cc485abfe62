// The page's side of the API: one function per endpoint, each resolving to the server's JSON or
// rejecting with the server's one-line error. Every POST is JSON: the server refuses anything else
// (a page of another site could send text/plain without asking first).
import type { ExportView, Info, ReproducerView, SearchProgress, SearchView, SuccessorsView, TargetSpec, TraceList, TraceView } from '../protocol.js';

export class ApiFailure extends Error {}

async function send(path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiFailure('the server does not answer (is checker serve still running?)');
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await send(path, init);
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiFailure(`the server answered ${res.status} without JSON`);
  }
  if (!res.ok) throw new ApiFailure((body as { error?: string }).error ?? `the server answered ${res.status}`);
  return body as T;
}

const post = (body: unknown, signal?: AbortSignal, accept = 'application/json'): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  signal,
});

/** What a walk is shown as: a counterexample of `property` (a search's result from step `from`, a dropped trace). */
export interface WalkAs {
  title?: string;
  property?: string | null;
  from?: number | null;
}

/**
 * The search, its progress read as it comes (lines of JSON); aborting `signal` closes the request,
 * which stops the search on the server.
 */
async function search(target: TargetSpec, path: number[], depth: number, onProgress: (p: SearchProgress) => void, signal: AbortSignal): Promise<SearchView> {
  const res = await send('/api/search', post({ target, path, depth }, signal, 'application/x-ndjson'));
  if (!(res.headers.get('content-type') ?? '').includes('ndjson')) {
    // refused before it started: one JSON error
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ApiFailure(body.error ?? `the server answered ${res.status}`);
  }
  const reader = res.body!.getReader();
  const text = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += text.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as { progress?: SearchProgress; result?: SearchView; error?: string };
      buf = buf.slice(nl + 1);
      if (line.progress) onProgress(line.progress);
      if (line.result) return line.result;
      if (line.error) throw new ApiFailure(line.error);
    }
    if (done) throw new ApiFailure('the search ended without a result (did the server stop?)');
  }
}

export const api = {
  info: () => call<Info>('/api/info'),
  traces: () => call<TraceList>('/api/traces'),
  trace: (name: string) => call<TraceView>(`/api/trace?name=${encodeURIComponent(name)}`),
  dropped: (name: string, text: string) => call<TraceView>(`/api/trace?name=${encodeURIComponent(name)}`, post(text)),
  walk: (target: TargetSpec, path: number[], as: WalkAs = {}) => call<TraceView>('/api/walk', post({ target, path, ...as })),
  successors: (target: TargetSpec, path: number[], signal?: AbortSignal) => call<SuccessorsView>('/api/successors', post({ target, path }, signal)),
  search,
  export: (target: TargetSpec, path: number[], property: string | null) => call<ExportView>('/api/export', post({ target, path, property })),
  reproducer: (target: TargetSpec, path: number[], property: string | null) => call<ReproducerView>('/api/reproducer', post({ target, path, property })),
};
