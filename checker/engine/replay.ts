// Rebuilding a path's states from the initial state: traces are stored as action indices only.
import type { Model } from './model.js';

/** Replays an action-index path; returns the states along it (or throws where an index is out of range). */
export function replayPath<S, A, R>(
  model: Model<S, A, R>,
  root: number,
  path: readonly number[],
): { states: S[]; actions: A[]; results: R[] } {
  const init = model.init()[root];
  if (init === undefined) throw new RangeError(`no initial state ${root}`);
  const states: S[] = [init as S];
  const actions: A[] = [];
  const results: R[] = [];
  let s: S = init as S;
  const buf = new Uint8Array(model.encodedSize);
  path.forEach((ai, k) => {
    const acts = model.actions(s);
    const a = acts[ai];
    if (a === undefined) throw new RangeError(`step ${k + 1}: action index ${ai} is not enabled (${acts.length} actions)`);
    const { next: stepped, result } = model.step(s, a);
    // `step` may hand back a scratch object: keep a copy of our own
    model.encode(stepped, buf);
    const next = model.decode(buf);
    states.push(next);
    actions.push(a);
    results.push(result);
    s = next;
  });
  return { states, actions, results };
}
