// The steps of a trace, each with its return code and the cells it changed, projected onto a frame or
// a domain when one is picked. The projection is `checker trace show --frame/--domain`'s rule
// (checker/trace/render.ts): onto a frame, its cells and the entries mapping it, and the steps whose
// ledger touches it; onto a domain, its own cells, those of frames it owns before or after the step,
// and the steps that name it.
import { Component } from 'preact';
import type { ChangeView, StepView, TraceView } from '../protocol.js';
import type { Projection } from './drawing.js';

export function keptChanges(t: TraceView, s: StepView, p: Projection): ChangeView[] {
  const before = t.states[s.index - 1]!;
  const after = t.states[s.index]!;
  const ownedBy = (m: number, d: number) => before.frames[m]?.ownerDomain === d || after.frames[m]?.ownerDomain === d;
  return s.changes.filter(
    (c) =>
      (p.frame === null || c.frame === p.frame) &&
      (p.domain === null || c.domain === p.domain || (c.domain === undefined && c.frame !== undefined && ownedBy(c.frame, p.domain))),
  );
}

export function touches(t: TraceView, s: StepView, p: Projection): boolean {
  if (p.frame === null && p.domain === null) return true;
  if (keptChanges(t, s, p).length > 0) return true;
  if (p.frame !== null && s.ledger.some((e) => e.frame === p.frame)) return true;
  return p.domain !== null && Object.values(s.args).includes(t.universe.domains[p.domain]?.name ?? '');
}

/** The class of a return code: ok, an errno, a fault (or, with steps granularity, in flight). */
export const rcClass = (rc: number | null) => (rc === null ? 'rc fault' : rc < 0 ? 'rc err' : rc === 1 ? 'rc in-flight' : 'rc ok');

interface RowProps {
  trace: TraceView;
  step: StepView;
  projection: Projection;
  current: boolean;
  before: boolean;
  violated: boolean;
  onGo: (k: number) => void;
}

/** One step; re-rendered only when one of its props changes (stepping re-renders two rows, not all). */
class StepRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const cur = this.props as RowProps;
    return (Object.keys(next) as (keyof RowProps)[]).some((k) => next[k] !== cur[k]);
  }

  override render() {
    const { step: s, trace, projection } = this.props as RowProps;
    const kept = keptChanges(trace, s, projection);
    const props = this.props as RowProps;
    return (
      <li
        class={`step${props.current ? ' current' : ''}${props.before ? ' before' : ''}${props.violated ? ' violated' : ''}`}
        data-step={String(s.index)}
        aria-current={props.current ? 'step' : undefined}
        onClick={() => props.onGo(s.index)}
      >
        <button class="call go" onClick={(e) => (e.stopPropagation(), props.onGo(s.index))}>
          <span class="num">{s.index}.</span> <span class="text">{s.text}</span> → <span class={rcClass(s.rc)}>{s.rcText}</span>
          {props.violated && <span class="visually-hidden"> (violates an invariant)</span>}
        </button>
        {kept.length === 0 ? (
          <div class="change dim">(no change{s.changes.length ? ' here' : ''})</div>
        ) : (
          kept.map((c, i) => (
            <div class="change" key={i}>
              <span class="cell">{c.cell}</span> <span class="was">{c.before}</span> → <span class="now">{c.after}</span>
            </div>
          ))
        )}
      </li>
    );
  }
}

export function StepList(props: { trace: TraceView; cursor: number; projection: Projection; onGo: (k: number) => void }) {
  const t = props.trace;
  const p = props.projection;
  const shown = t.steps.filter((s) => touches(t, s, p));
  return (
    <ol class="steps" aria-label="steps">
      <li class={`step${props.cursor === 0 ? ' current' : ''}`} data-step="0" aria-current={props.cursor === 0 ? 'step' : undefined} onClick={() => props.onGo(0)}>
        <button class="call go" onClick={(e) => (e.stopPropagation(), props.onGo(0))}>
          <span class="num">0.</span> booted
        </button>
      </li>
      {shown.map((s) => (
        <StepRow
          key={s.index}
          trace={t}
          step={s}
          projection={p}
          current={s.index === props.cursor}
          before={t.from !== null && s.index <= t.from}
          violated={(t.violations[s.index]?.length ?? 0) > 0}
          onGo={props.onGo}
        />
      ))}
      {shown.length < t.steps.length && (
        <li class="step dim">
          {t.steps.length - shown.length} step{t.steps.length - shown.length === 1 ? ' does' : 's do'} not touch the projection
        </li>
      )}
    </ol>
  );
}
