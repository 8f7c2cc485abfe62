// The state in words, beside the picture: a table of frames with their owner, count and holders
// (counted as the drawing and refcount-matches-holders count them) and the p2m entries that map each,
// for a screen reader, a search in the page, or a reader who prefers rows to arrows.
import type { StateView } from '../protocol.js';
import { holdersText, leakText } from './drawing.js';

export function StateTable(props: { state: StateView; caption: string }) {
  const s = props.state;
  // entries by the frame they map
  const mapping = new Map<number, { name: string; foreign: boolean; holds: boolean }[]>();
  s.p2m.forEach((row, d) => {
    const dom = s.domains[d];
    row.forEach((e, g) => {
      if (e === null || e.mfn === null) return;
      const list = mapping.get(e.mfn) ?? [];
      list.push({ name: `p2m[${dom?.name ?? d}][${g}] ${e.type ?? e.text}`, foreign: e.foreign, holds: e.foreign && dom?.life !== 'destroyed' });
      mapping.set(e.mfn, list);
    });
  });
  return (
    <table class="state-table">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">frame</th>
          <th scope="col">owner</th>
          <th scope="col">count</th>
          <th scope="col">holders</th>
          <th scope="col">mapped by</th>
        </tr>
      </thead>
      <tbody>
        {s.frames.map((f) => {
          const entries = mapping.get(f.index) ?? [];
          const leak = leakText(f);
          return (
            <tr key={f.index} class={leak ? 'leaked' : undefined} data-frame={String(f.index)}>
              <th scope="row">{f.index}</th>
              <td>{f.owner}</td>
              <td>{f.count ?? '?'}</td>
              <td>
                {f.held ?? '?'}
                {f.held !== null && <span class="dim"> ({holdersText(f, entries.filter((e) => e.holds).length)})</span>}
                {leak && <span class="bad"> ✗ {leak}</span>}
              </td>
              <td>{entries.length === 0 ? <span class="dim">nothing</span> : entries.map((e) => `${e.name}${e.foreign && !e.holds ? ' (destroyed: holds nothing)' : ''}`).join(', ')}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
