// A trace on screen, one state at a time: the stepper (with the steps that violate an invariant
// marked on the slider, and a jump to the first), the violation, the interleaving of the vCPUs, the
// state drawn and as a table, what the step changed, the ledger, the steps, how to replay or save the
// trace, and the operations from here.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { SearchView, TraceView } from '../protocol.js';
import { StateDrawing, type Pick, type Projection } from './drawing.js';
import { Explorer } from './explorer.js';
import { Keep } from './export.js';
import { Lanes } from './lanes.js';
import { keptChanges, rcClass, StepList } from './steps.js';
import { StateTable } from './table.js';

/** Where to step: a step number, or a function of the current one and the trace's length. */
export type Go = number | ((cursor: number, n: number) => number);

const ZOOMS = [1, 1.5, 2, 3];

/** The first state that violates the trace's own property (else any invariant), or null. */
export function firstViolation(t: TraceView): number | null {
  const of = (ok: (name: string) => boolean) => t.violations.findIndex((vs) => vs.some((v) => ok(v.name)));
  const main = t.property === null ? -1 : of((n) => n === t.property);
  const any = main >= 0 ? main : of(() => true);
  return any >= 0 ? any : null;
}

/** The width of an element's content box, kept up to date (the drawing fits it). */
function useWidth(ref: { current: HTMLElement | null }, initial: number): number {
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const cs = getComputedStyle(el);
      const w = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      setWidth((old) => (Math.abs(old - w) >= 1 ? w : old));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return width;
}

export function TraceScreen(props: {
  view: TraceView;
  cursor: number;
  note: string | null;
  /** Counts the times a trace was put on screen (the same trace opened again too). */
  opened: number;
  canGoBack: boolean;
  projection: Projection;
  maxDepth: number;
  maxStates: number;
  onBack: () => void;
  onGo: (to: Go) => void;
  onPick: (p: Pick) => void;
  onUnproject: () => void;
  onTake: (actionIndex: number) => void;
  onFound: (r: SearchView) => void;
}) {
  const { view: t, cursor, note } = props;
  const p = props.projection;
  const n = t.steps.length;
  const step = cursor > 0 ? t.steps[cursor - 1]! : null;
  const state = t.states[cursor]!;
  const prev = cursor > 0 ? t.states[cursor - 1]! : null;
  const violations = t.violations[cursor] ?? [];
  const ledgerFrame = p.frame ?? t.subjectFrame;
  const u = t.universe;
  const what = t.label ?? `${u.version} on ${u.backend}`;
  const first = firstViolation(t);
  const pane = useRef<HTMLDivElement>(null);
  const avail = useWidth(pane, Math.min(window.innerWidth - 40, 900));
  const [zoom, setZoom] = useState(1);
  const title = useRef<HTMLHeadingElement>(null);

  // a trace opened from the list (or by a link, or Back) takes the focus: Space or Enter then act here,
  // not on the button that opened it; a step taken by hand leaves the focus where it is
  useEffect(() => {
    const at = document.activeElement;
    if (at === null || at === document.body || at.closest('aside')) title.current?.focus({ preventScroll: true });
  }, [props.opened]);

  const kind = t.kind === 'trace' ? 'trace' : t.kind === 'walk' ? 'walk by hand' : 'search result';
  return (
    <div class="trace-screen" data-cursor={String(cursor)} data-steps={String(n)}>
      <header class="trace-head">
        {props.canGoBack && (
          <button class="back" onClick={props.onBack} aria-label="back to what was on screen before">
            ← back
          </button>
        )}
        <h1 class="title" tabIndex={-1} ref={title}>
          {t.title}
        </h1>
        <span class="dim">
          {kind} · {what} · domains {t.target.domains}
          {t.target.granularity === 'steps' ? ` · steps, ${t.target.vcpus} vCPUs` : ''}
          {t.source ? ` · ${t.source}` : ''}
        </span>
      </header>
      {note && <div class="note">{note}</div>}
      <div class="stepper">
        <button class="first" onClick={() => props.onGo(0)} disabled={cursor === 0} aria-label="the booted state (Home)" title="the booted state (Home)">
          |◀
        </button>
        <button class="prev" onClick={() => props.onGo((k) => k - 1)} disabled={cursor === 0} aria-label="previous step (←)" title="previous step (←)">
          ◀
        </button>
        <span class="position" aria-live="polite">
          step <b class="cursor">{cursor}</b> of {n}
        </span>
        <button class="next" onClick={() => props.onGo((k) => k + 1)} disabled={cursor === n} aria-label="next step (→)" title="next step (→)">
          ▶
        </button>
        <button class="last" onClick={() => props.onGo((_, last) => last)} disabled={cursor === n} aria-label="last step (End)" title="last step (End)">
          ▶|
        </button>
        <div class="slider-wrap">
          <input class="slider" type="range" min={0} max={n} value={cursor} onInput={(e) => props.onGo(Number((e.target as HTMLInputElement).value))} aria-label="step" />
          <div class="marks" aria-hidden="true">
            {t.violations.map((vs, k) =>
              vs.length > 0 ? <span key={k} class={`mark${k === first ? ' first' : ''}`} data-mark={String(k)} style={{ left: `calc(8px + (100% - 16px) * ${n === 0 ? 0 : k / n})` }} title={`step ${k}: ${vs.map((v) => v.name).join(', ')}`} /> : null,
            )}
          </div>
        </div>
        <button class="first-violation" disabled={first === null || first === cursor} onClick={() => first !== null && props.onGo(first)}>
          {first === null ? 'no violation' : `first violation (step ${first})`}
        </button>
      </div>
      <div class="current-step">
        {step ? (
          <>
            {step.text} → <span class={rcClass(step.rc)}>{step.rcText}</span>
          </>
        ) : (
          'booted'
        )}
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
      {state.fault && (
        <div class="fault-line" role="alert">
          hypervisor fault: {state.fault}
        </div>
      )}
      {(p.frame !== null || p.domain !== null) && (
        <div class="projection">
          projected on {p.frame !== null ? `frame ${p.frame}` : u.domains[p.domain!]?.name}{' '}
          <button class="small unproject" onClick={props.onUnproject}>
            × show everything
          </button>
        </div>
      )}
      <div class="panes">
        <div class="drawing-pane" ref={pane}>
          <Lanes trace={t} cursor={cursor} avail={avail} onGo={props.onGo} />
          <div class="zoom" role="group" aria-label="zoom the drawing">
            <button class="small zoom-out" disabled={zoom === ZOOMS[0]} onClick={() => setZoom(ZOOMS[Math.max(0, ZOOMS.indexOf(zoom) - 1)]!)} aria-label="zoom out">
              −
            </button>
            <button class="small zoom-fit" disabled={zoom === 1} onClick={() => setZoom(1)} aria-label="fit the drawing to the width">
              fit
            </button>
            <button class="small zoom-in" disabled={zoom === ZOOMS[ZOOMS.length - 1]} onClick={() => setZoom(ZOOMS[Math.min(ZOOMS.length - 1, ZOOMS.indexOf(zoom) + 1)]!)} aria-label="zoom in">
              +
            </button>
          </div>
          <div class="drawing">
            <StateDrawing
              state={state}
              prev={prev}
              projection={p}
              violations={violations}
              avail={avail - 10}
              zoom={zoom}
              label={`the state after step ${cursor}: domains with their p2m entries, frames with count and holders`}
              onPick={props.onPick}
            />
          </div>
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
            <span class="key own">own RAM</span> <span class="key foreign">foreign</span> <span class="key dangling">to a free frame</span>
            {t.target.granularity === 'steps' && <span class="key tlb">TLB, flush pending</span>} · click or focus a frame or a domain to project the trace onto it
          </div>
          <StateTable state={state} caption={`The state after step ${cursor}: frames, their count and holders, and the entries mapping them`} />
        </div>
        <div class="side">
          <section class="this-step">
            <h2>{step ? `Step ${cursor} changed` : 'Booted'}</h2>
            {step === null ? (
              <div class="dim">every domain alive, each gfn mapped to its own frame</div>
            ) : (
              <>
                <div class="call">
                  {step.text} → <span class={rcClass(step.rc)}>{step.rcText}</span>
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
        <section class="steps-pane" aria-labelledby="steps-title">
          <h2 id="steps-title">Steps</h2>
          <StepList trace={t} cursor={cursor} projection={p} onGo={props.onGo} />
          {t.property && (
            <div class="violation main">
              ✗ {t.property}: {t.message}
            </div>
          )}
          <Keep trace={t} />
        </section>
        <Explorer trace={t} cursor={cursor} maxDepth={props.maxDepth} maxStates={props.maxStates} onTake={props.onTake} onFound={props.onFound} />
      </div>
    </div>
  );
}
