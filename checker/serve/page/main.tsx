// checker serve's page: a trace (from the folder, dropped, walked by hand or found by a search) on
// screen, one state at a time. Every view has its address (url.ts): opening a trace, a walk or a
// search's result adds an entry to the browser's history, stepping and projecting update it, so Back,
// Forward and Reload work and a link opens the same view elsewhere.
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Info, SearchView, TargetSpec, TraceList, TraceView } from '../protocol.js';
import { api } from './api.js';
import type { Pick as Picked, Projection } from './drawing.js';
import { firstViolation, TraceScreen, type Go } from './screen.js';
import { BootForm, DropZone, TraceFolder } from './sidebar.js';
import { placeToSearch, searchToPlace, sourceKey, walkSource, type Place, type Source } from './url.js';
import './app.css';

interface Screen {
  view: TraceView;
  key: string;
  cursor: number;
}

/** What the page keeps in each history entry: how deep in the page's own entries, which trace, a note. */
interface Entry {
  depth: number;
  key: string | null;
  note: string | null;
}

const NONE: Projection = { frame: null, domain: null };
const CACHED = 24;

/** Where a trace opens when its address names no step: its first violation, or the end of a walk or a search's result. */
function openingStep(v: TraceView): number {
  return v.kind === 'trace' ? (firstViolation(v) ?? 0) : v.steps.length;
}

const entry = (): Entry => (history.state as Entry | null) ?? { depth: 0, key: null, note: null };

function App() {
  const [info, setInfo] = useState<Info | null>(null);
  const [list, setList] = useState<TraceList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [screen, setScreen] = useState<Screen | null>(null);
  const [projection, setProjection] = useState<Projection>(NONE);
  const [note, setNote] = useState<string | null>(null);
  const [depth, setDepth] = useState(0);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [opened, setOpened] = useState(0);
  const cache = useRef(new Map<string, TraceView>());
  const latest = useRef(0);

  const remember = (key: string, v: TraceView) => {
    const c = cache.current;
    c.delete(key);
    c.set(key, v);
    if (c.size > CACHED) c.delete(c.keys().next().value!);
  };

  const fetchView = (src: Source): Promise<TraceView> => {
    const key = sourceKey(src);
    const hit = cache.current.get(key);
    if (hit) return Promise.resolve(hit);
    const w = 'walk' in src ? src.walk : null;
    const p = w === null ? api.trace((src as { trace: string }).trace) : api.walk(w.target, w.path, { ...(w.title !== null ? { title: w.title } : {}), property: w.property, from: w.from });
    return p.then((v) => {
      remember(key, v);
      return v;
    });
  };

  /**
   * Puts a trace on screen at a place. `how`: a new history entry (a new screen), the current entry
   * rewritten, or none (Back or Forward already moved to it).
   */
  const display = (src: Source, v: TraceView, place: At, how: 'push' | 'replace' | 'none', why: string | null) => {
    const key = sourceKey(src);
    remember(key, v);
    const cursor = Math.max(0, Math.min(v.steps.length, place.step ?? openingStep(v)));
    const url = placeToSearch({ source: src, step: cursor, projection: place.projection });
    const d = how === 'push' ? entry().depth + 1 : entry().depth;
    if (how === 'push') history.pushState({ depth: d, key, note: why } satisfies Entry, '', url || '?');
    else if (how === 'replace') history.replaceState({ depth: d, key, note: why } satisfies Entry, '', url || '?');
    setDepth(d);
    setScreen({ view: v, key, cursor });
    setProjection(place.projection);
    setNote(why);
    setSidebarOpen(false);
    setOpened((k) => k + 1);
  };

  /** Runs a request that yields a new screen; its failure is shown, the screen stays (a newer request wins). */
  const load = (p: Promise<TraceView>, then: (v: TraceView) => void) => {
    const mine = ++latest.current;
    setBusy(true);
    setError(null);
    p.then((v) => mine === latest.current && then(v))
      .catch((e: Error) => mine === latest.current && setError(e.message))
      .finally(() => mine === latest.current && setBusy(false));
  };

  /** The place the address names, on screen (a page opened from a link, Reload, Back, Forward). */
  const follow = (how: 'replace' | 'none') => {
    const place = searchToPlace(location.search);
    const src = place.source;
    if (src === null) {
      latest.current++;
      setScreen(null);
      setNote(null);
      setDepth(entry().depth);
      return;
    }
    load(fetchView(src), (v) => display(src, v, place, how, entry().note));
  };

  const refresh = useCallback(() => {
    api.traces().then(setList, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    api.info().then(setInfo, (e: Error) => setError(e.message));
    refresh();
    follow('replace');
    const onPop = () => follow('none');
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  // stepping and projecting rewrite the entry's address, once the keys stop (the history API is
  // throttled by browsers, and a step must not wait for it)
  useEffect(() => {
    if (screen === null) return;
    const timer = setTimeout(() => {
      const e = entry();
      if (e.key !== screen.key) return;
      const src = searchToPlace(location.search).source;
      if (src === null) return;
      history.replaceState(e, '', placeToSearch({ source: src, step: screen.cursor, projection }) || '?');
    }, 250);
    return () => clearTimeout(timer);
  }, [screen?.cursor, screen?.key, projection]);

  const openTrace = (name: string) => {
    const src: Source = { trace: name };
    load(fetchView(src), (v) => display(src, v, { step: null, projection: NONE }, 'push', null));
  };
  const openFile = (f: File) => {
    f.text().then(
      // a dropped file is kept by its universe and path: its address opens it again without the file
      (text) => load(api.dropped(f.name, text), (v) => display(walkSource(v), v, { step: null, projection: NONE }, 'push', null)),
      () => setError(`${f.name}: cannot be read`),
    );
  };
  const boot = (t: TargetSpec) => {
    load(api.walk(t, [], { title: 'a walk by hand from the booted state' }), (v) => display(walkSource(v), v, { step: 0, projection: NONE }, 'push', null));
  };

  // a step number, or a move from the current one: computed on the latest cursor, so key presses
  // and clicks that come faster than the page renders each count
  const go = useCallback(
    (to: Go) =>
      setScreen((s) => {
        if (!s) return s;
        const n = s.view.steps.length;
        const cursor = Math.max(0, Math.min(n, typeof to === 'number' ? to : to(s.cursor, n)));
        return cursor === s.cursor ? s : { ...s, cursor };
      }),
    [],
  );

  const take = (actionIndex: number) => {
    if (!screen) return;
    const { view, cursor } = screen;
    const path = [...view.path.slice(0, cursor), actionIndex];
    // extending a walk at its end keeps it one walk (one history entry); anywhere else a new walk starts from here
    const extending = view.kind === 'walk' && cursor === view.steps.length;
    const title = extending ? view.title : `by hand, from ${view.title} at step ${cursor}`;
    load(api.walk(view.target, path, { title }), (v) => display(walkSource(v), v, { step: null, projection }, extending ? 'replace' : 'push', null));
  };

  const found = (r: SearchView) => {
    const v = r.found!;
    const why = `nearest violation from step ${v.from}: ${v.property}, ${r.distance} step${r.distance === 1 ? '' : 's'} further (${r.distinct.toLocaleString('en-US')} states searched)`;
    display(walkSource(v), v, { step: null, projection: NONE }, 'push', why);
  };

  // arrows step, Home and End jump (not while typing in a field, nor on the slider, which steps itself)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement | null)?.tagName;
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || e.altKey || e.ctrlKey || e.metaKey) return;
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

  const pick = (p: Picked) =>
    setProjection((cur) =>
      'frame' in p ? (cur.frame === p.frame ? NONE : { frame: p.frame, domain: null }) : cur.domain === p.domain ? NONE : { frame: null, domain: p.domain },
    );

  const current = screen !== null && screen.view.kind === 'trace' && screen.key.startsWith('trace:') ? screen.view.source : null;
  return (
    <div class={`app${busy ? ' busy' : ''}${screen === null ? ' landing' : ''}${sidebarOpen ? ' sidebar-open' : ''}`} aria-busy={busy}>
      <aside id="sidebar" aria-label="traces and universes">
        <div class="brand">checker</div>
        <TraceFolder list={list} current={current} onOpen={openTrace} onRefresh={refresh} />
        <DropZone onFile={openFile} />
        {info && <BootForm info={info} onBoot={boot} />}
      </aside>
      <main>
        <button class="menu small" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={() => setSidebarOpen((o) => !o)}>
          {sidebarOpen ? '× close the list' : '☰ traces and universes'}
        </button>
        {error && (
          <div class="error banner" role="alert">
            {error}{' '}
            <button class="small" aria-label="dismiss the error" onClick={() => setError(null)}>
              ×
            </button>
          </div>
        )}
        {screen ? (
          <TraceScreen
            view={screen.view}
            cursor={screen.cursor}
            note={note}
            opened={opened}
            canGoBack={depth > 0}
            projection={projection}
            maxDepth={info?.maxSearchDepth ?? 8}
            maxStates={info?.maxStates ?? 1_000_000}
            onBack={() => history.back()}
            onGo={go}
            onPick={pick}
            onUnproject={() => setProjection(NONE)}
            onTake={take}
            onFound={found}
          />
        ) : (
          <div class="welcome">
            <h1>checker serve</h1>
            <p>
              Open a trace of the folder, drop a trace file (written by <code>checker explore --trace-out DIR</code>) on the page, or boot a universe and explore it by hand.
            </p>
          </div>
        )}
      </main>
    </div>
  );
}

/** A place on a trace: the step (null: where the trace opens) and the projection. */
type At = Omit<Place, 'source'>;

render(<App />, document.getElementById('app')!);
