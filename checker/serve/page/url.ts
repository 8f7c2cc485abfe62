// Every view has its own address: the trace (a file of the folder, or a walk given by its universe and
// path, which is how a walk by hand, a search's result and a dropped trace are named), the step and
// the frame or domain the trace is projected onto. The universe's parameters are spelled as the
// command line's flags (`?xen=xen-4.19&domains=...&granularity=steps&vcpus=2&path=8,0,0`), so a link
// reads as the command that reproduces it, and opens the same view in another browser.
import type { TargetSpec, TraceView } from '../protocol.js';
import type { Projection } from './drawing.js';

/** What is on screen, apart from the step and the projection. */
export type Source =
  | { trace: string }
  | { walk: { target: TargetSpec; path: number[]; title: string | null; property: string | null; from: number | null } };

export interface Place {
  source: Source | null;
  /** null: the trace's own first step to show (its first violation, or the end of a walk). */
  step: number | null;
  projection: Projection;
}

const NO_PROJECTION: Projection = { frame: null, domain: null };

/** A walk's source for a view on screen (a walk, a search's result, or a dropped trace by its path). */
export function walkSource(v: TraceView): Source {
  return { walk: { target: v.target, path: v.path, title: v.kind === 'walk' ? v.title : null, property: v.property, from: v.from } };
}

/** The key of a source: two places with the same key show the same trace. */
export function sourceKey(s: Source): string {
  return 'trace' in s ? `trace:${s.trace}` : `walk:${JSON.stringify(s.walk)}`;
}

const int = (v: string | null): number | null => (v !== null && /^\d+$/.test(v) ? Number(v) : null);

export function placeToSearch(p: Place): string {
  const q = new URLSearchParams();
  const s = p.source;
  if (s !== null && 'trace' in s) q.set('trace', s.trace);
  else if (s !== null) {
    const { target: t, path, title, property, from } = s.walk;
    if (t.mutant !== null) q.set('mutant', t.mutant);
    if (t.variant !== null) q.set('variant', t.variant);
    q.set('xen', t.version);
    if (t.backend !== '') q.set('backend', t.backend);
    q.set('domains', t.domains);
    q.set('gfns', String(t.gfns));
    q.set('spare-frames', String(t.spareFrames));
    if (t.ops.length > 0) q.set('ops', t.ops.join(','));
    if (t.build !== '') q.set('build', t.build);
    if (t.superpages) q.set('superpages', '1');
    if (t.destroyableDom0) q.set('destroyable-dom0', '1');
    if (t.preemptibleTeardown) q.set('preemptible-teardown', '1');
    if (t.granularity === 'steps') {
      q.set('granularity', 'steps');
      q.set('vcpus', String(t.vcpus));
    }
    q.set('path', path.join(','));
    if (property !== null) q.set('property', property);
    if (from !== null) q.set('from', String(from));
    if (title !== null) q.set('title', title);
  }
  if (s !== null && p.step !== null) q.set('step', String(p.step));
  if (p.projection.frame !== null) q.set('frame', String(p.projection.frame));
  else if (p.projection.domain !== null) q.set('domain', String(p.projection.domain));
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/** The place a URL's query names; anything it cannot read is left out (the server checks the rest). */
export function searchToPlace(search: string): Place {
  const q = new URLSearchParams(search);
  const projection: Projection = int(q.get('frame')) !== null ? { frame: int(q.get('frame')), domain: null } : int(q.get('domain')) !== null ? { frame: null, domain: int(q.get('domain')) } : NO_PROJECTION;
  const step = int(q.get('step'));
  const trace = q.get('trace');
  if (trace !== null) return { source: { trace }, step, projection };
  const path = q.get('path');
  if (path === null || !/^(\d+(,\d+)*)?$/.test(path)) return { source: null, step: null, projection: NO_PROJECTION };
  const target: TargetSpec = {
    version: q.get('xen') ?? 'seed',
    backend: q.get('backend') ?? '',
    domains: q.get('domains') ?? '',
    gfns: int(q.get('gfns')) ?? 2,
    spareFrames: int(q.get('spare-frames')) ?? 1,
    ops: (q.get('ops') ?? '').split(',').filter((o) => o !== ''),
    destroyableDom0: q.has('destroyable-dom0'),
    preemptibleTeardown: q.has('preemptible-teardown'),
    build: q.get('build') ?? '',
    superpages: q.has('superpages'),
    mutant: q.get('mutant'),
    variant: q.get('variant'),
    granularity: q.get('granularity') ?? 'atomic',
    vcpus: q.get('granularity') === 'steps' ? (int(q.get('vcpus')) ?? 2) : 0,
  };
  return {
    source: { walk: { target, path: path === '' ? [] : path.split(',').map(Number), title: q.get('title'), property: q.get('property'), from: int(q.get('from')) } },
    step,
    projection,
  };
}
