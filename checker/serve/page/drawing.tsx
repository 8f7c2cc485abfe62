// The state as a picture: domains on the left with their p2m entries as rows, frames on the right
// with owner, count and allocation, and an arrow from every entry to the frame it maps. Foreign
// entries are drawn apart from a domain's own RAM; an arrow to a free (or missing) frame is red, and
// so is a free frame and a count that its holders do not account for. Cells that the last step
// changed are highlighted. Fields the page does not know are shown as text, so a field the model
// gains is drawn (and highlighted) without a change here.
import type { DomainView, EntryView, Field, FrameView, StateView } from '../protocol.js';

export interface Projection {
  frame: number | null;
  domain: number | null;
}

export type Pick = { frame: number } | { domain: number };

const DX = 12;
const DW = 300;
const FX = 600;
const FW = 330;
const LINE = 16;
const ROW = 22;
const GAP = 12;
const TOP = 28;

/** Fields as lines of at most `per` fields, for a box of fixed width. */
function lines(fields: Field[], per: number): Field[][] {
  const out: Field[][] = [];
  for (let i = 0; i < fields.length; i += per) out.push(fields.slice(i, i + per));
  return out;
}

const fieldText = ([k, v]: Field) => `${k} ${v}`;

interface DomainBox {
  d: DomainView;
  y: number;
  h: number;
  header: Field[][];
  rows: (EntryView | null)[];
  rowY: (g: number) => number;
}

interface FrameBox {
  f: FrameView;
  y: number;
  h: number;
  body: Field[][];
}

function layout(s: StateView): { domains: DomainBox[]; frames: FrameBox[]; height: number } {
  const domains: DomainBox[] = [];
  let y = TOP;
  s.domains.forEach((d, i) => {
    const header = lines(
      d.fields.filter(([k]) => k !== 'life'),
      3,
    );
    const rows = s.p2m[i] ?? [];
    const head = LINE + 8 + header.length * LINE;
    const h = head + rows.length * ROW + 6;
    const top = y;
    domains.push({ d, y: top, h, header, rows, rowY: (g) => top + head + g * ROW + ROW / 2 });
    y += h + GAP;
  });
  const frames: FrameBox[] = [];
  let fy = TOP;
  for (const f of s.frames) {
    const body = lines(
      f.fields.filter(([k]) => k !== 'owner'),
      3,
    );
    const h = LINE + 10 + (body.length + (leakText(f) ? 1 : 0)) * LINE;
    frames.push({ f, y: fy, h, body });
    fy += h + 6;
  }
  return { domains, frames, height: Math.max(y, fy) + 12 };
}

function changedFields(cur: Field[], prev: Field[] | undefined): Set<string> {
  const out = new Set<string>();
  if (!prev) return out;
  const before = new Map(prev);
  for (const [k, v] of cur) if (before.get(k) !== v) out.add(k);
  for (const [k] of prev) if (!cur.some(([c]) => c === k)) out.add(k);
  return out;
}

function leakText(f: FrameView): string | null {
  if (f.free || f.count === null || f.held === null || f.count === f.held) return null;
  return f.count > f.held ? `${f.count - f.held} held by nothing` : `${f.held - f.count} holder(s) without a reference`;
}

export function StateDrawing(props: { state: StateView; prev: StateView | null; projection: Projection; onPick: (p: Pick) => void }) {
  const { state: s, prev, projection: p } = props;
  const { domains, frames, height } = layout(s);
  const frameBox = new Map(frames.map((b) => [b.f.index, b]));
  const width = FX + FW + DX;

  const arrows = domains.flatMap((b) =>
    b.rows.map((e, g) => {
      if (e === null || e.mfn === null) return null;
      const target = frameBox.get(e.mfn);
      const dangling = !target || target.f.free;
      const x1 = DX + DW;
      const y1 = b.rowY(g);
      const x2 = target ? FX : x1 + 90;
      const y2 = target ? target.y + target.h / 2 : y1;
      const mid = (x1 + x2) / 2;
      const kind = dangling ? 'dangling' : e.foreign ? 'foreign' : 'own';
      const faded =
        (p.frame !== null && e.mfn !== p.frame) || (p.domain !== null && b.d.index !== p.domain && target?.f.ownerDomain !== p.domain);
      const wasText = prev?.p2m[b.d.index]?.[g]?.text ?? null;
      const changed = prev !== null && wasText !== e.text;
      return (
        <g key={`a${b.d.index}:${g}`}>
          <path
            class={`arrow ${kind}${faded ? ' faded' : ''}${changed ? ' changed' : ''}`}
            data-from={`${b.d.index}:${g}`}
            data-to={String(e.mfn)}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            marker-end={`url(#head-${kind})`}
          >
            <title>{`p2m[${b.d.name}][${g}] = ${e.text}${dangling ? (target ? ': frame ' + e.mfn + ' is free' : ': no frame ' + e.mfn) : ''}`}</title>
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

  return (
    <svg class="state" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="the state: domains, p2m entries and frames">
      <defs>
        {['own', 'foreign', 'dangling'].map((k) => (
          <marker id={`head-${k}`} key={k} class={`head ${k}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" />
          </marker>
        ))}
      </defs>
      <text class="column" x={DX} y={16}>
        domains and their p2m
      </text>
      <text class="column" x={FX} y={16}>
        frames
      </text>
      {domains.map((b) => {
        const before = prev?.domains[b.d.index];
        const changed = changedFields(b.d.fields, before?.fields);
        const picked = p.domain === b.d.index;
        return (
          <g key={`d${b.d.index}`} class={`domain life-${b.d.life ?? 'unknown'}${picked ? ' picked' : ''}`} data-domain={String(b.d.index)}>
            <rect class="box" x={DX} y={b.y} width={DW} height={b.h} rx="4" />
            <g class="head" onClick={() => props.onPick({ domain: b.d.index })}>
              <rect class={`head-bg${changed.has('life') ? ' changed' : ''}`} x={DX} y={b.y} width={DW} height={LINE + 8} rx="4" />
              <text x={DX + 8} y={b.y + LINE + 1}>
                <tspan class="name">{b.d.name}</tspan>
                <tspan class="dim">{` ${b.d.kind}${b.d.hardware ? ' hw' : ''} · `}</tspan>
                <tspan class={`life${changed.has('life') ? ' changed' : ''}`}>{b.d.life ?? '?'}</tspan>
              </text>
              <title>{b.d.fields.map(fieldText).join('\n')}</title>
            </g>
            {b.header.map((line, i) => (
              <text key={i} class="fields" x={DX + 8} y={b.y + LINE + 8 + (i + 1) * LINE - 3}>
                {line.map((f, j) => (
                  <tspan key={f[0]} class={changed.has(f[0]) ? 'changed' : undefined}>
                    {(j ? ' · ' : '') + fieldText(f)}
                  </tspan>
                ))}
              </text>
            ))}
            {b.rows.map((e, g) => {
              const was = prev?.p2m[b.d.index]?.[g];
              const changed = prev !== null && (was?.text ?? null) !== (e?.text ?? null);
              const y = b.rowY(g);
              const target = e?.mfn === null || e === null ? undefined : frameBox.get(e.mfn);
              const dangling = e !== null && (!target || target.f.free);
              return (
                <g
                  key={`e${g}`}
                  class={`entry${e === null ? ' empty' : e.foreign ? ' foreign' : ' own'}${dangling ? ' dangling' : ''}${changed ? ' changed' : ''}`}
                  data-entry={`${b.d.index}:${g}`}
                  onClick={() => (e?.mfn != null ? props.onPick({ frame: e.mfn }) : props.onPick({ domain: b.d.index }))}
                >
                  <rect x={DX + 4} y={y - ROW / 2 + 1} width={DW - 8} height={ROW - 2} rx="3" />
                  <text x={DX + 10} y={y + 4}>
                    <tspan class="gfn">{`gfn ${g}`}</tspan>
                    <tspan x={DX + 60}>{e === null ? 'empty' : `${e.type ?? e.text}${e.mfn !== null ? ` → frame ${e.mfn}` : ''}`}</tspan>
                  </text>
                  <title>{`p2m[${b.d.name}][${g}] = ${e?.text ?? 'empty'}${was !== undefined && changed ? ` (was ${was?.text ?? 'empty'})` : ''}`}</title>
                </g>
              );
            })}
          </g>
        );
      })}
      {arrows}
      {frames.map((b) => {
        const f = b.f;
        const before = prev?.frames[f.index];
        const changed = changedFields(f.fields, before?.fields);
        const leak = leakText(f);
        const picked = p.frame === f.index || (p.domain !== null && f.ownerDomain === p.domain);
        return (
          <g
            key={`f${f.index}`}
            class={`frame${f.free ? ' free' : ''}${leak ? ' leaked' : ''}${picked ? ' picked' : ''}`}
            data-frame={String(f.index)}
            onClick={() => props.onPick({ frame: f.index })}
          >
            <rect class={`box${changed.size ? ' changed' : ''}`} x={FX} y={b.y} width={FW} height={b.h} rx="4" />
            <text x={FX + 8} y={b.y + LINE + 2}>
              <tspan class="name">{`frame ${f.index}`}</tspan>
              <tspan class={`owner${changed.has('owner') ? ' changed' : ''}`}>{` · ${f.owner}`}</tspan>
            </text>
            {b.body.map((line, i) => (
              <text key={i} class="fields" x={FX + 8} y={b.y + LINE + 4 + (i + 1) * LINE}>
                {line.map((fl, j) => (
                  <tspan key={fl[0]} class={changed.has(fl[0]) ? 'changed' : undefined}>
                    {(j ? ' · ' : '') + fieldText(fl)}
                  </tspan>
                ))}
              </text>
            ))}
            {leak && (
              <text class="leak" data-leak={String(f.index)} x={FX + 8} y={b.y + LINE + 4 + (b.body.length + 1) * LINE}>
                {`✗ count ${f.count}, holders ${f.held}: ${leak}`}
              </text>
            )}
            <title>{[`frame ${f.index}`, ...f.fields.map(fieldText), ...(f.held !== null ? [`holders: ${f.held}`] : [])].join('\n')}</title>
          </g>
        );
      })}
    </svg>
  );
}
