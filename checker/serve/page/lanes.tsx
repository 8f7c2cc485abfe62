// With --granularity steps: the interleaving, as a message-sequence chart lies on its side (Spin's
// MSC, stateright's sequence diagram): one lane per vCPU, time running left to right, each step a
// segment in the lane of the vCPU that ran it, a call's segments one colour with its return at the
// end, a bar under a lane while the vCPU holds a p2m lock and a dashed one while it waits for one,
// and the current step marked. Beside it, in words: each vCPU's call in flight and where it stopped
// (the command line's words), the locks it holds or waits for, the references its call holds, and
// the TLB flushes pending.
import type { InterleavingView, StepView, TraceView } from '../protocol.js';

const LABEL = 52;
const LANE = 30;
const SEG = 16;

interface Segment {
  step: StepView;
  /** Which call of its lane this segment belongs to (alternating colours). */
  call: number;
  /** The last segment of its call. */
  ends: boolean;
}

/** Per lane, the segments of a trace (null with atomic granularity). */
function segments(t: TraceView): Segment[][] | null {
  const lanes = t.states[0]!.interleaving?.vcpus.length;
  if (lanes === undefined) return null;
  const out: Segment[][] = Array.from({ length: lanes }, () => []);
  const calls = new Array<number>(lanes).fill(0);
  for (const s of t.steps) {
    if (s.vcpu === null || s.vcpu >= lanes) continue;
    // a segment that does not end its call returns 1 (model/steps.ts's IN_FLIGHT, never an errno)
    const ends = s.rc !== 1;
    out[s.vcpu]!.push({ step: s, call: calls[s.vcpu]!, ends });
    if (ends) calls[s.vcpu]! += 1;
  }
  return out;
}

/** Runs of steps [from, to] where `has(state k)` holds, for the bars under a lane. */
function runs(n: number, has: (k: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let k = 0; k <= n; k++) {
    if (has(k) && start < 0) start = k;
    if ((!has(k) || k === n) && start >= 0) {
      out.push([start, has(k) ? k : k - 1]);
      start = -1;
    }
  }
  return out;
}

export function Lanes(props: { trace: TraceView; cursor: number; avail: number; onGo: (k: number) => void }) {
  const t = props.trace;
  const lanes = segments(t);
  if (lanes === null) return null;
  const n = t.steps.length;
  const il = (k: number) => t.states[k]!.interleaving!;
  // a column per step (state k sits at the column's right edge), as wide as the space allows
  const avail = Math.max(props.avail, 200);
  const col = Math.max(2, Math.min(28, (avail - LABEL - 8) / Math.max(1, n)));
  const width = LABEL + col * n + 8;
  // past the narrowest columns the chart is scaled to the space there is
  const shown = Math.min(width, avail);
  const height = lanes.length * LANE + 10;
  const x = (k: number) => LABEL + col * k;
  const here = il(props.cursor);
  return (
    <section class="interleaving" aria-label="interleaving of the vCPUs">
      <h2>vCPUs</h2>
        <svg class="lanes" width={shown} height={(height * shown) / width} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${lanes.length} vCPU lanes over ${n} steps; step ${props.cursor} marked (the list below says the same in words)`}>
          {lanes.map((segs, v) => {
            const y = 4 + v * LANE;
            const holds = runs(n, (k) => il(k).vcpus[v]!.holds.length > 0);
            const waits = runs(n, (k) => il(k).vcpus[v]!.blocked);
            return (
              <g key={v} class="lane" data-vcpu={String(v)}>
                <text class="lane-name" x={4} y={y + SEG - 3}>
                  {`vcpu${v}`}
                </text>
                <line class="lifeline" x1={LABEL} x2={x(n)} y1={y + SEG / 2} y2={y + SEG / 2} />
                {segs.map((s) => (
                  <rect
                    key={s.step.index}
                    class={`segment call-${s.call % 2}${s.ends ? ' ends' : ''}${s.step.index === props.cursor ? ' current' : ''}${s.step.rc === null ? ' fault' : ''}`}
                    data-step={String(s.step.index)}
                    x={x(s.step.index - 1) + 0.5}
                    y={y}
                    width={Math.max(2, col - 1)}
                    height={SEG}
                    rx={Math.min(3, col / 3)}
                    onClick={() => props.onGo(s.step.index)}
                  >
                    <title>{`${s.step.index}. ${s.step.text} → ${s.step.rcText}`}</title>
                  </rect>
                ))}
                {holds.map(([a, b]) => (
                  <rect key={`h${a}`} class="holds" x={x(a)} y={y + SEG + 2} width={Math.max(2, x(b) - x(a))} height={3}>
                    <title>{`vcpu${v} holds a p2m lock from step ${a} to ${b}`}</title>
                  </rect>
                ))}
                {waits.map(([a, b]) => (
                  <line key={`w${a}`} class="waits" x1={x(a)} x2={Math.max(x(a) + 2, x(b))} y1={y + SEG + 7} y2={y + SEG + 7}>
                    <title>{`vcpu${v} waits for a p2m lock from step ${a} to ${b}`}</title>
                  </line>
                ))}
              </g>
            );
          })}
          <line class="now" x1={x(props.cursor)} x2={x(props.cursor)} y1={0} y2={height} />
        </svg>
      <VcpuList il={here} />
    </section>
  );
}

function VcpuList(props: { il: InterleavingView }) {
  const { il } = props;
  const dom = (d: number) => il.locks[d]?.name ?? `domain ${d}`;
  return (
    <ul class="vcpus">
      {il.vcpus.map((v) => (
        <li key={v.index} class={`vcpu${v.call === null ? ' idle' : ''}${v.blocked ? ' blocked' : ''}`} data-vcpu={String(v.index)}>
          <b>{v.name}</b>{' '}
          {v.call === null ? (
            <span class="dim">idle</span>
          ) : (
            <>
              <span class="call">{v.call}</span> <span class="at">stopped in {v.at}</span>
            </>
          )}
          {v.holds.length > 0 && <span class="lock"> · holds the p2m lock of {v.holds.map(dom).join(', ')}</span>}
          {v.blocked && v.takesLock !== null && <span class="waits"> · waits for the p2m lock of {dom(v.takesLock)} (held by vcpu{il.locks[v.takesLock]?.holder})</span>}
          {v.references.map((r) => (
            <span key={r.frame} class="refs">
              {' '}
              · {r.count > 0 ? `holds ${r.count} reference${r.count === 1 ? '' : 's'}` : `dropped ${-r.count} reference${r.count === -1 ? '' : 's'} early`} on frame {r.frame}
            </span>
          ))}
        </li>
      ))}
      {il.tlb.map((tl) => (
        <li key={`t${tl.domain}:${tl.frame}`} class={`tlb${tl.stale ? ' stale' : ''}`}>
          {dom(tl.domain)}'s TLB may still translate to frame {tl.frame}: flush pending{tl.stale ? '; the frame was freed and handed out again' : ''}
        </li>
      ))}
    </ul>
  );
}
