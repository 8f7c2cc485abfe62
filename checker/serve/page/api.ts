// The page's side of the API: one function per endpoint, each resolving to the server's JSON or
// rejecting with the server's one-line error.
import type { Info, SearchView, SuccessorsView, TargetSpec, TraceList, TraceView } from '../protocol.js';

export class ApiFailure extends Error {}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiFailure('the server does not answer (is checker serve still running?)');
  }
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

const post = (body: unknown, signal?: AbortSignal): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  signal,
});

export const api = {
  info: () => call<Info>('/api/info'),
  traces: () => call<TraceList>('/api/traces'),
  trace: (name: string) => call<TraceView>(`/api/trace?name=${encodeURIComponent(name)}`),
  dropped: (name: string, text: string) =>
    call<TraceView>(`/api/trace?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }),
  walk: (target: TargetSpec, path: number[], title: string) => call<TraceView>('/api/walk', post({ target, path, title })),
  successors: (target: TargetSpec, path: number[], signal?: AbortSignal) => call<SuccessorsView>('/api/successors', post({ target, path }, signal)),
  search: (target: TargetSpec, path: number[], depth: number) => call<SearchView>('/api/search', post({ target, path, depth })),
};
