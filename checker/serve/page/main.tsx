// checker serve's page: a trace (from the folder, dropped, walked by hand or found by a search) on
// screen, one state at a time; the state drawn, the step's changes, the violation, the ledger, the
// steps, and the operations from here.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Info, SearchView, TargetSpec, TraceList, TraceView } from '../protocol.js';
import { api } from './api.js';
import { StateDrawing, type Pick, type Projection } from './drawing.js';
import { Explorer } from './explorer.js';
import { BootForm, DropZone, TraceFolder } from './sidebar.js';
import { keptChanges, StepList } from './steps.js';
import './app.css';

interface Screen {
  view: TraceView;
  cursor: number;
  /** A line about how the trace came to be (a search's result). */
  note: string | null;
}

const NONE: Projection = { frame: null, domain: null };

/** Where to step: a step number, or a function of the current one and the trace's length. */
type Go = number | ((cursor: number, n: number) => number);

function App() {
  const [info, setInfo] = useState<Info | null>(null);
  const [list, setList] = useState<TraceList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // what was on screen before a walk or a search, to come back to
  const [stack, setStack] = useState<Screen[]>([]);
  const [projection, setProjection] = useState<Projection>(NONE);
  const screen = stack[stack.length - 1] ?? null;

  const refresh = useCallback(() => {
    api.traces().then(setList, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    api.info().then(setInfo, (e: Error) => setError(e.message));
    refresh();
  }, []);

  /** Runs a request that yields a new screen; its failure is shown, the screen stays. */
  const load = (p: Promise<TraceView>, place: (v: TraceView) => (s: Screen[]) => Screen[]) => {
    setBusy(true);
    setError(null);
    p.then((v) => {
      setStack(place(v));
    })
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  const fresh = (cursor: (v: TraceView) => number) => (v: TraceView) => () => {
    setProjection(NONE);
    return [{ view: v, cursor: cursor(v), note: null }];
  };

  const openTrace = (name: string) => load(api.trace(name), fresh(() => 0));
  const openFile = (f: File) => {
    f.text().then(
      (text) => load(api.dropped(f.name, text), fresh(() => 0)),
      () => setError(`${f.name}: cannot be read`),
    );
  };
  const boot = (t: TargetSpec) => load(api.walk(t, [], 'the booted state'), fresh(() => 0));

  // a step number, or a move from the current one: computed on the latest cursor, so key presses
  // and clicks that come faster than the page renders each count
  const go = useCallback(
    (to: Go) =>
      setStack((s) => {
        const top = s[s.length - 1];
        if (!top) return s;
        const n = top.view.steps.length;
        const cursor = Math.max(0, Math.min(n, typeof to === 'number' ? to : to(top.cursor, n)));
        return cursor === top.cursor ? s : [...s.slice(0, -1), { ...top, cursor }];
      }),
    [],
  );

  const take = (actionIndex: number) => {
    if (!screen) return;
    const { view, cursor } = screen;
    const path = [...view.path.slice(0, cursor), actionIndex];
    // extending a walk at its end keeps it one walk; anywhere else a new walk starts from here
    const extending = view.kind === 'walk' && cursor === view.steps.length;
    const title = extending ? view.title : `by hand, from ${view.title} at step ${cursor}`;
    load(api.walk(view.target, path, title), (v) => (s) => [...(extending ? s.slice(0, -1) : s), { view: v, cursor: v.steps.length, note: null }]);
  };

  const found = (r: SearchView) => {
    const v = r.found!;
    const note = `nearest violation from step ${v.from}: ${v.property}, ${r.distance} step${r.distance === 1 ? '' : 's'} further (${r.distinct.toLocaleString('en-US')} states searched)`;
    setStack((s) => [...s, { view: v, cursor: v.steps.length, note }]);
  };

  // arrows step, Home and End jump (not while typing in a field)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement | null)?.tagName;
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
      const to: Go | null =
        e.key === 'ArrowRight' || e.key === 'ArrowDown' ? (k) => k + 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? (k) => k - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? (_, n) => n : null;
      if (to === null) return;
      e.preventDefault();
      go(to);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  // a trace file dropped anywhere on the page opens
  useEffect(() => {
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      const f = e.dataTransfer?.files[0];
      if (f) openFile(f);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  // keep the current step in sight inside the list (scrollIntoView would scroll the page too)
  useEffect(() => {
    const list = document.querySelector<HTMLElement>('.steps');
    const cur = list?.querySelector<HTMLElement>('.current');
    if (!list || !cur) return;
    const top = cur.offsetTop; // .steps is positioned: offsets are within it
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + cur.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = top + cur.offsetHeight - list.clientHeight;
  }, [screen?.cursor, screen?.view]);

  const pick = (p: Pick) =>
    setProjection((cur) =>
      'frame' in p ? (cur.frame === p.frame ? NONE : { frame: p.frame, domain: null }) : cur.domain === p.domain ? NONE : { frame: null, domain: p.domain },
    );

  return (
    <div class={`app${busy ? ' busy' : ''}`}>
      <aside>
        <h1 class="brand">checker</h1>
        <TraceFolder list={list} current={screen?.view.source ?? null} onOpen={openTrace} onRefresh={refresh} />
        <DropZone onFile={openFile} />
        {info && <BootForm info={info} onBoot={boot} />}
      </aside>
      <main>
        {error && (
          <div class="error banner" role="alert">
            {error} <button class="small" onClick={() => setError(null)}>×</button>
          </div>
        )}
        {screen ? (
          <TraceScreen
            screen={screen}
            depth={stack.length}
            projection={projection}
            maxDepth={info?.maxSearchDepth ?? 8}
            onBack={() => setStack((s) => s.slice(0, -1))}
            onGo={go}
            onPick={pick}
            onUnproject={() => setProjection(NONE)}
            onTake={take}
            onFound={found}
          />
        ) : (
          <div class="welcome">
            <p>Open a trace of the folder, drop a trace file (written by <code>checker explore --trace-out DIR</code>) on the page, or boot a universe and explore it by hand.</p>
          </div>
        )}
      </main>
    </div>
  );
}

function TraceScreen(props: {
  screen: Screen;
  depth: number;
  projection: Projection;
  maxDepth: number;
  onBack: () => void;
  onGo: (to: Go) => void;
  onPick: (p: Pick) => void;
  onUnproject: () => void;
  onTake: (actionIndex: number) => void;
  onFound: (r: SearchView) => void;
}) {
  const { view: t, cursor, note } = props.screen;
  const p = props.projection;
  const n = t.steps.length;
  const step = cursor > 0 ? t.steps[cursor - 1]! : null;
  const state = t.states[cursor]!;
  const prev = cursor > 0 ? t.states[cursor - 1]! : null;
  const violations = t.violations[cursor] ?? [];
  const ledgerFrame = p.frame ?? t.subjectFrame;
  const u = t.universe;
  const what = t.label ?? `${u.version} on ${u.backend}`;
  return (
    <div class="trace-screen" data-cursor={String(cursor)} data-steps={String(n)}>
      <header class="trace-head">
        {props.depth > 1 && (
          <button class="back" onClick={props.onBack} title="back to what was on screen before">
            ← back
          </button>
        )}
        <h1 class="title">{t.title}</h1>
        <span class="dim">
          {t.kind === 'trace' ? 'trace' : t.kind === 'walk' ? 'walk by hand' : 'search result'} · {what} · domains {t.target.domains}
          {t.source ? ` · ${t.source}` : ''}
        </span>
      </header>
      {note && <div class="note">{note}</div>}
      <div class="stepper">
        <button class="first" onClick={() => props.onGo(0)} disabled={cursor === 0} title="booted state (Home)">
          |◀
        </button>
        <button class="prev" onClick={() => props.onGo((k) => k - 1)} disabled={cursor === 0} title="previous step (←)">
          ◀
        </button>
        <span class="position">
          step <b class="cursor">{cursor}</b> of {n}
        </span>
        <button class="next" onClick={() => props.onGo((k) => k + 1)} disabled={cursor === n} title="next step (→)">
          ▶
        </button>
        <button class="last" onClick={() => props.onGo((_, last) => last)} disabled={cursor === n} title="last step (End)">
          ▶|
        </button>
        <input class="slider" type="range" min={0} max={n} value={cursor} onInput={(e) => props.onGo(Number((e.target as HTMLInputElement).value))} aria-label="step" />
        <span class="current-step">{step ? `${step.text} → ${step.rcText}` : 'booted'}</span>
      </div>
      {violations.length > 0 && (
        <div class="violations" role="status">
          {violations.map((v) => (
            <div class={`violation${v.name === t.property ? ' main' : ''}`} key={v.name}>
              ✗ <b>{v.name}</b>: {v.message}
            </div>
          ))}
        </div>
      )}
      {cursor === n && t.property && !violations.some((v) => v.name === t.property) && (
        <div class="violations">
          <div class="violation main">
            ✗ <b>{t.property}</b>: {t.message}
          </div>
        </div>
      )}
      {state.fault && <div class="fault">hypervisor fault: {state.fault}</div>}
      {(p.frame !== null || p.domain !== null) && (
        <div class="projection">
          projected on {p.frame !== null ? `frame ${p.frame}` : u.domains[p.domain!]?.name}{' '}
          <button class="small unproject" onClick={props.onUnproject}>
            × show everything
          </button>
        </div>
      )}
      <div class="panes">
        <div class="drawing">
          <StateDrawing state={state} prev={prev} projection={p} onPick={props.onPick} />
          {state.other.length > 0 && (
            <div class="other">
              {state.other.map(([k, v]) => (
                <div key={k}>
                  <span class="cell">{k}</span> {v}
                </div>
              ))}
            </div>
          )}
          <div class="legend dim">
            <span class="key own">own RAM</span> <span class="key foreign">foreign</span> <span class="key dangling">to a free frame</span> · click a frame or a domain to project
            the trace onto it
          </div>
        </div>
        <div class="side">
          <section class="this-step">
            <h2>{step ? `Step ${cursor} changed` : 'Booted'}</h2>
            {step === null ? (
              <div class="dim">every domain alive, each gfn mapped to its own frame</div>
            ) : (
              <>
                <div class="call">
                  {step.text} → <span class={step.rc === null ? 'rc fault' : step.rc < 0 ? 'rc err' : 'rc ok'}>{step.rcText}</span>
                </div>
                {keptChanges(t, step, p).map((c, i) => (
                  <div class="change" key={i}>
                    <span class="cell">{c.cell}</span> <span class="was">{c.before}</span> → <span class="now">{c.after}</span>
                  </div>
                ))}
                {step.changes.length === 0 ? (
                  <div class="dim">(no change)</div>
                ) : (
                  keptChanges(t, step, p).length === 0 && <div class="dim">(no change to what the projection keeps)</div>
                )}
                {step.ledger
                  .filter((e) => p.frame === null || e.frame === p.frame)
                  .map((e, i) => (
                    <div class="ledger-event dim" key={i}>
                      frame {e.frame}: {e.text}
                    </div>
                  ))}
              </>
            )}
          </section>
          {ledgerFrame !== null && t.ledgers[ledgerFrame] && (
            <section class="ledger">
              <h2>Reference ledger</h2>
              <pre>
                {t.ledgers[ledgerFrame]!.map((l, i) => (
                  <div key={i} class={l.startsWith(`  step ${cursor}.`) ? 'here' : undefined}>
                    {l}
                  </div>
                ))}
              </pre>
            </section>
          )}
        </div>
      </div>
      <div class="lower">
        <section class="steps-pane">
          <h2>Steps</h2>
          <StepList trace={t} cursor={cursor} projection={p} onGo={props.onGo} />
          {t.property && (
            <div class="violation main">
              ✗ {t.property}: {t.message}
            </div>
          )}
          <div class="dim token">replay token: {t.path.join(',') || '(booted state)'}</div>
        </section>
        <Explorer trace={t} cursor={cursor} maxDepth={props.maxDepth} onTake={props.onTake} onFound={props.onFound} />
      </div>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
