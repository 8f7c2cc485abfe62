// Exploring by hand: every operation enabled in the state on screen (with steps granularity, each
// vCPU's next segment, or any hypercall on an idle one), with its return code, the cells it would
// change and what it would violate; one click takes it. And the checker's breadth-first search for
// the nearest violation from this state, with its progress, a cancel, and what it checked in the
// command line's words.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { OperationView, SearchProgress, SearchView, SuccessorsView, TraceView } from '../protocol.js';
import { api } from './api.js';
import { rcClass } from './steps.js';

function matches(o: OperationView, filter: string): boolean {
  if (filter === '') return true;
  const hay = `${o.text} ${o.rcText} ${o.changes.map((c) => `${c.cell} ${c.before} ${c.after}`).join(' ')} ${o.violates.map((v) => v.name).join(' ')}`.toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .every((w) => hay.includes(w));
}

const n = (x: number) => x.toLocaleString('en-US');

export function Explorer(props: {
  trace: TraceView;
  cursor: number;
  maxDepth: number;
  maxStates: number;
  onTake: (actionIndex: number) => void;
  onFound: (s: SearchView) => void;
}) {
  const { trace, cursor } = props;
  // the operations, with the state they are of: those of another state are never shown as this one's
  const [answer, setAnswer] = useState<{ trace: TraceView; cursor: number; succ: SuccessorsView } | null>(null);
  const succ = answer !== null && answer.trace === trace && answer.cursor === cursor ? answer.succ : null;
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [onlyChanging, setOnlyChanging] = useState(true);
  const [depth, setDepth] = useState(trace.target.granularity === 'steps' ? 8 : 4);
  const [progress, setProgress] = useState<SearchProgress | null>(null);
  const [searchNote, setSearchNote] = useState<string | null>(null);
  const running = useRef<AbortController | null>(null);

  // The operations of the state on screen; a newer state cancels the request for an older one, and
  // a short delay keeps a run of steps (holding an arrow key) from asking for every state on the way.
  useEffect(() => {
    const ctl = new AbortController();
    let live = true;
    setError(null);
    setSearchNote(null);
    const timer = setTimeout(() => {
      api
        .successors(trace.target, trace.path.slice(0, cursor), ctl.signal)
        .then((r) => live && setAnswer({ trace, cursor, succ: r }))
        .catch((e: Error) => {
          if (live && e.name !== 'AbortError') setError(e.message);
        });
    }, 120);
    return () => {
      live = false;
      clearTimeout(timer);
      ctl.abort();
    };
  }, [trace, cursor]);

  // a search in flight is the state's: leaving the state (or the page) cancels it
  useEffect(() => () => running.current?.abort(), [trace, cursor]);

  const runSearch = () => {
    const ctl = new AbortController();
    running.current = ctl;
    setProgress({ depth: 0, distinct: 0, generated: 0, elapsedMs: 0 });
    setSearchNote(null);
    api
      .search(trace.target, trace.path.slice(0, cursor), depth, setProgress, ctl.signal)
      .then((r) => {
        const already = r.already.length ? ` (already violated here, not searched: ${r.already.map((v) => v.name).join(', ')})` : '';
        setSearchNote(`${r.summary}; ${n(r.distinct)} states in ${(r.elapsedMs / 1000).toFixed(1)} s${already}`);
        if (r.found) props.onFound(r);
      })
      .catch((e: Error) => setSearchNote(e.name === 'AbortError' ? 'search cancelled' : e.message))
      .finally(() => {
        if (running.current === ctl) running.current = null;
        setProgress(null);
      });
  };

  const ops = succ?.operations ?? [];
  const shown = ops.filter((o) => (!onlyChanging || o.changes.length > 0) && matches(o, filter));
  return (
    <section class="explorer" aria-labelledby="explorer-title">
      <h2 id="explorer-title">
        From state {cursor}
        {trace.steps.length > cursor ? <span class="dim"> (taking an operation leaves the trace for a walk of your own)</span> : null}
      </h2>
      <div class="search">
        {progress === null ? (
          <button class="search-button" disabled={succ?.enabled === false} onClick={runSearch}>
            shortest violation from here
          </button>
        ) : (
          <button class="cancel-search" onClick={() => running.current?.abort()}>
            cancel the search
          </button>
        )}
        <label>
          within{' '}
          <input
            type="number"
            class="depth"
            min={1}
            max={props.maxDepth}
            value={depth}
            disabled={progress !== null}
            onInput={(e) => setDepth(Math.max(1, Math.min(props.maxDepth, Number((e.target as HTMLInputElement).value) || 1)))}
          />{' '}
          steps
        </label>
        <div class="search-status" role="status" aria-live="polite">
          {progress !== null && (
            <span class="search-progress">
              searching: depth {progress.depth}, {n(progress.distinct)} states, {(progress.elapsedMs / 1000).toFixed(1)} s (at most {n(props.maxStates)} states)
            </span>
          )}
          {progress === null && searchNote && <span class="note search-note">{searchNote}</span>}
        </div>
      </div>
      <div class="controls">
        <input
          class="filter"
          type="search"
          aria-label="filter the operations"
          placeholder="filter: dom1 foreign -EINVAL frames[4]…"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
        <label>
          <input type="checkbox" class="only-changing" checked={onlyChanging} onChange={(e) => setOnlyChanging((e.target as HTMLInputElement).checked)} /> only operations that change the state
        </label>
      </div>
      {error && <div class="error">{error}</div>}
      {succ === null && !error && <div class="dim">…</div>}
      {succ !== null && !succ.enabled && <div class="note">a faulted state has no successors: the hypervisor stopped here</div>}
      {succ !== null && succ.enabled && (
        <div class="dim">
          {shown.length} of {ops.length} operations shown
          {succ.already.length > 0 && `; already violated here (not marked below): ${succ.already.map((v) => v.name).join(', ')}`}
        </div>
      )}
      <ul class="ops">
        {shown.map((o) => (
          <li key={o.actionIndex} class={`op${o.violates.length ? ' violates' : ''}`}>
            <button class="take" data-action={String(o.actionIndex)} onClick={() => props.onTake(o.actionIndex)}>
              {o.text} → <span class={rcClass(o.rc)}>{o.rcText}</span>
              <span class="visually-hidden">: take this operation</span>
            </button>
            <div class="op-changes">
              {o.changes.length === 0 ? <span class="dim">no change</span> : o.changes.map((c) => `${c.cell} ${c.before} → ${c.after}`).join('; ')}
            </div>
            {o.violates.map((v) => (
              <div class="violation" key={v.name} title={v.message}>
                ✗ {v.name}
              </div>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
