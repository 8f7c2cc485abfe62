// The state as a picture: domains on the left with their p2m entries as rows, frames on the right
// with owner, count and allocation, and an arrow from every entry to the frame it maps. Foreign
// entries are drawn apart from a domain's own RAM; an arrow to a free (or missing) frame is red, and
// so is a free frame and a count its holders do not account for. Holders are counted as
// refcount-matches-holders counts them: the allocation, foreign entries of p2ms that exist, and with
// steps granularity the references calls in flight hold (said on the frame). With steps, a domain
// shows its p2m lock's holder and waiters, and a dotted arrow goes to each frame its TLB may still
// translate to (red once the frame was handed out again). Frames and entries a violation names are
// marked. Cells the last step changed are highlighted; fields the page does not know are shown as
// text, so a field the model gains is drawn without a change here.
//
// The layout fits the width it is given: boxes narrow and their fields wrap down to a minimum, below
// which the picture is scaled; the zoom enlarges it (the pane then scrolls).
import type { DomainView, EntryView, Field, FrameView, InterleavingView, StateView, Violation } from '../protocol.js';

export interface Projection {
  frame: number | null;
  domain: number | null;
}

export type Pick = { frame: number } | { domain: number };

const DX = 8;
const LINE = 16;
const ROW = 22;
const GAP = 12;
const TOP = 28;
/** The narrowest and widest layout; narrower screens see the narrowest scaled down. */
export const MIN_WIDTH = 570;
const MAX_WIDTH = 960;

let measured: { name: number; field: number } | null = null;
/** The width of a character of the drawing's monospace font, at 12 px and at 11 px (measured once). */
function charWidths(): { name: number; field: number } {
  if (measured) return measured;
  const ctx = document.createElement('canvas').getContext('2d');
  const of = (px: number) => {
    if (!ctx) return px * 0.62;
    ctx.font = `${px}px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace`;
    return ctx.measureText('0123456789').width / 10 || px * 0.62;
  };
  measured = { name: of(12), field: of(11) };
  return measured;
}

interface Geometry {
  width: number;
  dw: number;
  fx: number;
  fw: number;
  /** Characters of 11 px text a box's line holds. */
  chars: number;
}

function geometry(avail: number): Geometry {
  const width = Math.round(Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, avail)));
  // the arrows' room grows with the width; at the narrowest the boxes keep what an entry's line needs
  const gap = Math.round(Math.min(280, 90 + (width - MIN_WIDTH) / 2));
  const dw = Math.floor((width - gap - 2 * DX) / 2);
  return { width, dw, fx: DX + dw + gap, fw: dw, chars: Math.max(12, Math.floor((dw - 16) / charWidths().field)) };
}

type Span = { text: string; cls?: string | undefined };

/** Spans laid out in lines of at most `chars` characters, joined by ' · ' (a span longer than a line is cut into pieces). */
function wrap(spans: Span[], chars: number): Span[][] {
  const out: Span[][] = [];
  let line: Span[] = [];
  let used = 0;
  for (const s of spans) {
    const sep = line.length > 0 ? ' · ' : '';
    if (used + sep.length + s.text.length <= chars) {
      line.push({ ...s, text: sep + s.text });
      used += sep.length + s.text.length;
      continue;
    }
    if (line.length > 0) out.push(line);
    line = [];
    used = 0;
    let rest = s.text;
    while (rest.length > chars) {
      const cut = rest.lastIndexOf(' ', chars) > chars / 2 ? rest.lastIndexOf(' ', chars) : chars;
      out.push([{ ...s, text: rest.slice(0, cut) }]);
      rest = rest.slice(cut).trimStart();
    }
    line = [{ ...s, text: rest }];
    used = rest.length;
  }
  if (line.length > 0) out.push(line);
  return out;
}

const fieldText = ([k, v]: Field) => `${k} ${v}`;

function changedFields(cur: Field[], prev: Field[] | undefined): Set<string> {
  const out = new Set<string>();
  if (!prev) return out;
  const before = new Map(prev);
  for (const [k, v] of cur) if (before.get(k) !== v) out.add(k);
  for (const [k] of prev) if (!cur.some(([c]) => c === k)) out.add(k);
  return out;
}

/** What a count its holders do not account for means, or null. */
export function leakText(f: FrameView): string | null {
  if (f.free || f.count === null || f.held === null || f.count === f.held) return null;
  return f.count > f.held ? `${f.count - f.held} held by nothing` : `${f.held - f.count} holder(s) without a reference`;
}

/** The holders of a frame as a person counts them: "allocation 1 + 1 foreign + 1 in flight". */
export function holdersText(f: FrameView, foreign: number): string {
  const alloc = f.fields.find(([k]) => k === 'allocated')?.[1] === 'true' ? 1 : 0;
  return `allocation ${alloc} + ${foreign} foreign${f.inFlight !== 0 ? ` ${f.inFlight > 0 ? '+' : '−'} ${Math.abs(f.inFlight)} in flight` : ''}`;
}

/** Who holds in-flight references on frame m: "vcpu0 +1". */
function inFlightBy(il: InterleavingView | null, m: number): string {
  if (il === null) return '';
  return il.vcpus.flatMap((v) => v.references.filter((r) => r.frame === m).map((r) => `${v.name} ${r.count > 0 ? '+' : ''}${r.count}`)).join(', ');
}

interface DomainBox {
  d: DomainView;
  y: number;
  h: number;
  head: number;
  header: Span[][];
  rows: (EntryView | null)[];
  rowY: (g: number) => number;
}

interface FrameBox {
  f: FrameView;
  y: number;
  h: number;
  body: Span[][];
  alert: Span[][];
}

function layout(s: StateView, g: Geometry, prev: StateView | null, marks: Marks): { domains: DomainBox[]; frames: FrameBox[]; height: number } {
  const il = s.interleaving;
  const domains: DomainBox[] = [];
  let y = TOP;
  s.domains.forEach((d, i) => {
    const changed = changedFields(d.fields, prev?.domains[i]?.fields);
    const spans: Span[] = d.fields.filter(([k]) => k !== 'life').map((f) => ({ text: fieldText(f), cls: changed.has(f[0]) ? 'changed' : undefined }));
    const lock = il?.locks[i];
    if (lock && lock.holder !== null) {
      spans.push({ text: `p2m lock: vcpu${lock.holder}${lock.depth > 1 ? ` ×${lock.depth}` : ''}${lock.waiters.length ? ` (${lock.waiters.map((w) => `vcpu${w}`).join(', ')} waits)` : ''}`, cls: 'lock' });
    }
    for (const t of il?.tlb.filter((x) => x.domain === i) ?? []) spans.push({ text: `TLB → frame ${t.frame}${t.stale ? ' (reused!)' : ' (flush pending)'}`, cls: t.stale ? 'tlb stale' : 'tlb' });
    const header = wrap(spans, g.chars);
    const rows = s.p2m[i] ?? [];
    const head = LINE + 8 + header.length * LINE;
    const h = head + rows.length * ROW + 6;
    const top = y;
    domains.push({ d, y: top, h, head, header, rows, rowY: (gfn) => top + head + gfn * ROW + ROW / 2 });
    y += h + GAP;
  });
  const frames: FrameBox[] = [];
  let fy = TOP;
  for (const f of s.frames) {
    const changed = changedFields(f.fields, prev?.frames[f.index]?.fields);
    const body = wrap(
      f.fields.filter(([k]) => k !== 'owner').map((fl) => ({ text: fieldText(fl), cls: changed.has(fl[0]) ? 'changed' : undefined })),
      g.chars,
    );
    const alert: Span[] = [];
    if (f.inFlight !== 0) alert.push({ text: `in flight: ${inFlightBy(il, f.index)}`, cls: 'in-flight' });
    const leak = leakText(f);
    if (leak) alert.push({ text: `✗ count ${f.count}, holders ${f.held}: ${leak}`, cls: 'leak' });
    for (const v of marks.frames.get(f.index) ?? []) alert.push({ text: `✗ ${v}`, cls: 'mark' });
    const alerts = alert.flatMap((a) => wrap([a], g.chars));
    const h = LINE + 10 + (body.length + alerts.length) * LINE;
    frames.push({ f, y: fy, h, body, alert: alerts });
    fy += h + 6;
  }
  return { domains, frames, height: Math.max(y, fy) + 12 };
}

/** The frames and entries the state's violations name, each with the invariants that name it. */
interface Marks {
  frames: Map<number, string[]>;
  entries: Set<string>;
}

function marksOf(violations: readonly Violation[]): Marks {
  const frames = new Map<number, string[]>();
  const entries = new Set<string>();
  for (const v of violations) {
    for (const m of v.frames) frames.set(m, [...(frames.get(m) ?? []), v.name]);
    for (const e of v.entries) entries.add(`${e.domain}:${e.gfn}`);
  }
  return { frames, entries };
}

function Lines(props: { lines: Span[][]; x: number; y: number; cls: string }) {
  return (
    <>
      {props.lines.map((line, i) => (
        <text key={i} class={props.cls} x={props.x} y={props.y + i * LINE}>
          {line.map((s, j) => (
            <tspan key={j} class={s.cls}>
              {s.text}
            </tspan>
          ))}
          {/* a space between lines, for their text read in a row (a name must contain what is shown) */ ' '}
        </text>
      ))}
    </>
  );
}

/** Enter or Space on a focused part of the drawing does what a click does. */
const onActivate = (f: () => void) => (e: KeyboardEvent) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    e.stopPropagation();
    f();
  }
};

export function StateDrawing(props: {
  state: StateView;
  prev: StateView | null;
  projection: Projection;
  violations: readonly Violation[];
  /** The width the drawing may take, in CSS pixels. */
  avail: number;
  zoom: number;
  label: string;
  onPick: (p: Pick) => void;
}) {
  const { state: s, prev, projection: p } = props;
  const g = geometry(props.avail);
  const marks = marksOf(props.violations);
  const { domains, frames, height } = layout(s, g, prev, marks);
  const frameBox = new Map(frames.map((b) => [b.f.index, b]));
  const width = g.width;
  // fit: the layout's width, or the space there is when it is narrower; the zoom multiplies that
  const shown = Math.min(width, Math.max(120, props.avail)) * props.zoom;

  const arrows = domains.flatMap((b) =>
    b.rows.map((e, gfn) => {
      if (e === null || e.mfn === null) return null;
      const target = frameBox.get(e.mfn);
      const dangling = !target || target.f.free;
      const x1 = DX + g.dw;
      const y1 = b.rowY(gfn);
      const x2 = target ? g.fx : x1 + 60;
      const y2 = target ? target.y + Math.min(target.h / 2, 20) : y1;
      const mid = (x1 + x2) / 2;
      const kind = dangling ? 'dangling' : e.foreign ? 'foreign' : 'own';
      const faded = (p.frame !== null && e.mfn !== p.frame) || (p.domain !== null && b.d.index !== p.domain && target?.f.ownerDomain !== p.domain);
      const wasText = prev?.p2m[b.d.index]?.[gfn]?.text ?? null;
      const changed = prev !== null && wasText !== e.text;
      return (
        <g key={`a${b.d.index}:${gfn}`}>
          <path
            class={`arrow ${kind}${faded ? ' faded' : ''}${changed ? ' changed' : ''}`}
            data-from={`${b.d.index}:${gfn}`}
            data-to={String(e.mfn)}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            marker-end={`url(#head-${kind})`}
          >
            <title>{`p2m[${b.d.name}][${gfn}] = ${e.text}${dangling ? (target ? ': frame ' + e.mfn + ' is free' : ': no frame ' + e.mfn) : ''}`}</title>
          </path>
          {!target && (
            <text class="missing" x={x2 + 6} y={y2 + 4}>
              ? frame {e.mfn}
            </text>
          )}
        </g>
      );
    }),
  );

  // steps granularity: a translation a domain's TLB may still hold, until the flush at the p2m unlock
  const tlbArrows = (s.interleaving?.tlb ?? []).map((t) => {
    const b = domains[t.domain];
    const target = frameBox.get(t.frame);
    if (!b || !target) return null;
    const x1 = DX + g.dw;
    const y1 = b.y + LINE / 2 + 4;
    const x2 = g.fx;
    const y2 = target.y + 8;
    const mid = (x1 + x2) / 2;
    return (
      <path key={`t${t.domain}:${t.frame}`} class={`arrow tlb${t.stale ? ' stale' : ''}`} data-tlb={`${t.domain}:${t.frame}`} d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}>
        <title>{`${b.d.name}'s TLB may still translate to frame ${t.frame} (the flush waits for the p2m unlock)${t.stale ? ': the frame was freed and handed out again' : ''}`}</title>
      </path>
    );
  });

  return (
    <svg
      class="state"
      width={shown}
      height={(height * shown) / width}
      viewBox={`0 0 ${width} ${height}`}
      role="group"
      aria-label={props.label}
      data-layout-width={String(width)}
    >
      <defs>
        {['own', 'foreign', 'dangling'].map((k) => (
          <marker id={`head-${k}`} key={k} class={`head ${k}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" />
          </marker>
        ))}
      </defs>
      <text class="column" x={DX} y={16} aria-hidden="true">
        domains and their p2m
      </text>
      <text class="column" x={g.fx} y={16} aria-hidden="true">
        frames
      </text>
      {domains.map((b) => {
        const before = prev?.domains[b.d.index];
        const lifeChanged = before !== undefined && before.life !== b.d.life;
        const picked = p.domain === b.d.index;
        const pick = () => props.onPick({ domain: b.d.index });
        return (
          <g key={`d${b.d.index}`} class={`domain life-${b.d.life ?? 'unknown'}${picked ? ' picked' : ''}`} data-domain={String(b.d.index)}>
            <rect class="box" x={DX} y={b.y} width={g.dw} height={b.h} rx="4" />
            <g
              class="head"
              tabindex={0}
              role="button"
              aria-pressed={picked}
              aria-label={`${b.d.name} ${b.d.kind}${b.d.hardware ? ' hw' : ''} · ${b.d.life ?? '?'}: project the trace onto this domain`}
              onClick={pick}
              onKeyDown={onActivate(pick)}
            >
              <rect class={`head-bg${lifeChanged ? ' changed' : ''}`} x={DX} y={b.y} width={g.dw} height={LINE + 8} rx="4" />
              <text x={DX + 8} y={b.y + LINE + 1}>
                <tspan class="name">{b.d.name}</tspan>
                <tspan class="dim">{` ${b.d.kind}${b.d.hardware ? ' hw' : ''} · `}</tspan>
                <tspan class={`life${lifeChanged ? ' changed' : ''}`}>{b.d.life ?? '?'}</tspan>
              </text>
              <title>{b.d.fields.map(fieldText).join('\n')}</title>
            </g>
            <Lines lines={b.header} x={DX + 8} y={b.y + LINE + 8 + LINE - 3} cls="fields" />
            {b.rows.map((e, gfn) => {
              const was = prev?.p2m[b.d.index]?.[gfn];
              const changed = prev !== null && (was?.text ?? null) !== (e?.text ?? null);
              const y = b.rowY(gfn);
              const target = e?.mfn === null || e === null ? undefined : frameBox.get(e.mfn);
              const dangling = e !== null && (!target || target.f.free);
              const marked = marks.entries.has(`${b.d.index}:${gfn}`);
              return (
                <g
                  key={`e${gfn}`}
                  class={`entry${e === null ? ' empty' : e.foreign ? ' foreign' : ' own'}${dangling ? ' dangling' : ''}${changed ? ' changed' : ''}${marked ? ' marked' : ''}`}
                  data-entry={`${b.d.index}:${gfn}`}
                  onClick={() => (e?.mfn != null ? props.onPick({ frame: e.mfn }) : props.onPick({ domain: b.d.index }))}
                >
                  <rect x={DX + 4} y={y - ROW / 2 + 1} width={g.dw - 8} height={ROW - 2} rx="3" />
                  <text x={DX + 10} y={y + 4}>
                    <tspan class="gfn">{`gfn ${gfn}`}</tspan>
                    <tspan x={DX + 60}>{e === null ? 'empty' : `${e.type ?? e.text}${e.mfn !== null ? ` → frame ${e.mfn}` : ''}`}</tspan>
                  </text>
                  <title>{`p2m[${b.d.name}][${gfn}] = ${e?.text ?? 'empty'}${was !== undefined && changed ? ` (was ${was?.text ?? 'empty'})` : ''}`}</title>
                </g>
              );
            })}
          </g>
        );
      })}
      {arrows}
      {tlbArrows}
      {frames.map((b) => {
        const f = b.f;
        const before = prev?.frames[f.index];
        const changed = changedFields(f.fields, before?.fields);
        const leak = leakText(f);
        const picked = p.frame === f.index || (p.domain !== null && f.ownerDomain === p.domain);
        const pick = () => props.onPick({ frame: f.index });
        // what the box says, as it says it (a name must contain the visible text), then the holders
        const said = [`frame ${f.index} · ${f.owner}`, ...[...b.body, ...b.alert].map((l) => l.map((x) => x.text).join(''))].join(' ');
        const label = `${said}${f.held !== null ? `; holders ${f.held}` : ''}`;
        return (
          <g
            key={`f${f.index}`}
            class={`frame${f.free ? ' free' : ''}${leak ? ' leaked' : ''}${marks.frames.has(f.index) ? ' marked' : ''}${picked ? ' picked' : ''}`}
            data-frame={String(f.index)}
            tabindex={0}
            role="button"
            aria-pressed={p.frame === f.index}
            aria-label={`${label}: project the trace onto this frame`}
            onClick={pick}
            onKeyDown={onActivate(pick)}
          >
            <rect class={`box${changed.size ? ' changed' : ''}`} x={g.fx} y={b.y} width={g.fw} height={b.h} rx="4" />
            <text x={g.fx + 8} y={b.y + LINE + 2}>
              <tspan class="name">{`frame ${f.index}`}</tspan>
              <tspan class={`owner${changed.has('owner') ? ' changed' : ''}`}>{` · ${f.owner}`}</tspan>{' '}
            </text>
            <Lines lines={b.body} x={g.fx + 8} y={b.y + LINE + 4 + LINE} cls="fields" />
            {b.alert.length > 0 && (
              <g class="alerts" data-leak={leak ? String(f.index) : undefined}>
                <Lines lines={b.alert} x={g.fx + 8} y={b.y + LINE + 4 + (b.body.length + 1) * LINE} cls="alert" />
              </g>
            )}
          </g>
        );
      })}
    </svg>
  );
}
