// Everything serve knows of `--granularity steps` (MODEL.md §6), in one place: per vCPU the call in
// flight, where it stopped and the lock it waits for; per domain its p2m lock's holder and the TLB
// slots whose flush is pending; per frame the references calls in flight hold. The rest of serve (and
// the page) reads these views, never the model's steps layer, so that when the model's layout of it
// moves only this module changes.
import { describeAt, domainName, formatAction, IN_FLIGHT, PENDING, STALE, type Action, type Rc, type State, type Universe } from '../../model/index.js';
import { inFlightReferences } from '../../invariants/holders.js';
import type { ChangeView, InterleavingView, LockView, VcpuView } from './protocol.js';

/** Top-level fields of a state that the views below draw (the state view leaves them out). */
export const INTERLEAVING_FIELDS: ReadonlySet<string> = new Set(['steps']);

/**
 * The references on frame `m` that calls in flight hold and no holder accounts for yet, counted as
 * refcount-matches-holders counts them (invariants/holders.ts); 0 with atomic granularity.
 */
export function inFlightHeld(s: State, m: number): number {
  return s.steps === undefined ? 0 : inFlightReferences(s, m);
}

/** The vCPU whose segment an action runs (null with atomic granularity). */
export function vcpuOf(a: Action): number | null {
  return a.vcpu ?? null;
}

/** Whether a step's call is still in flight after it (it stopped at an interleaving point). */
export const stoppedInFlight = (rc: Rc): boolean => rc === IN_FLIGHT;

/** The interleaving of a state: its vCPUs, p2m locks and pending TLB flushes; null with atomic granularity. */
export function interleavingOf(u: Universe, actions: readonly Action[], s: State): InterleavingView | null {
  const st = s.steps;
  if (st === undefined) return null;
  const vcpus: VcpuView[] = st.vcpus.map((v, i) => {
    const busy = v.op >= 0;
    const call = busy ? actions[v.op] : undefined;
    return {
      index: i,
      name: `vcpu${i}`,
      call: call === undefined ? null : formatAction(u, call),
      at: busy ? describeAt(u, v.at) : 'idle',
      takesLock: v.waitLock >= 0 ? v.waitLock : null,
      blocked: v.waitLock >= 0 && st.holder[v.waitLock]! >= 0 && st.holder[v.waitLock] !== i,
      holds: st.holder.flatMap((h, d) => (h === i ? [d] : [])),
      references: v.delta.flatMap((n, frame) => (n !== 0 ? [{ frame, count: n }] : [])),
    };
  });
  const locks: LockView[] = st.holder.map((h, d) => ({
    domain: d,
    name: domainName(u, d),
    holder: h >= 0 ? h : null,
    depth: st.depth[d]!,
    waiters: vcpus.filter((v) => v.blocked && v.takesLock === d).map((v) => v.index),
  }));
  const tlb = st.tlb.flatMap((row, d) =>
    row.flatMap((bits, frame) => ((bits & (PENDING | STALE)) !== 0 ? [{ domain: d, frame, stale: (bits & STALE) !== 0 }] : [])),
  );
  return { vcpus, locks, tlb };
}

const vcpuText = (v: VcpuView) => (v.call === null ? 'idle' : `${v.call} at ${v.at}`);
const lockText = (l: LockView) => (l.holder === null ? 'free' : `vcpu${l.holder}${l.depth > 1 ? ` (depth ${l.depth})` : ''}`);

/** What a step changed of the interleaving, as cells of the state (`vcpu0`, `p2m_lock[dom1]`, `tlb[dom0][2]`). */
export function interleavingChanges(before: InterleavingView | null, after: InterleavingView | null): ChangeView[] {
  if (before === null || after === null) return [];
  const out: ChangeView[] = [];
  after.vcpus.forEach((v, i) => {
    const was = before.vcpus[i];
    if (was && vcpuText(was) !== vcpuText(v)) out.push({ cell: v.name, before: vcpuText(was), after: vcpuText(v) });
  });
  after.locks.forEach((l, d) => {
    const was = before.locks[d];
    if (was && lockText(was) !== lockText(l)) out.push({ cell: `p2m_lock[${l.name}]`, before: lockText(was), after: lockText(l), domain: d });
  });
  const slot = (t: { domain: number; frame: number }) => `${t.domain}:${t.frame}`;
  const tlbText = (t: { stale: boolean } | undefined) => (t === undefined ? 'flushed' : t.stale ? 'pending, frame reused' : 'pending');
  const was = new Map(before.tlb.map((t) => [slot(t), t]));
  const now = new Map(after.tlb.map((t) => [slot(t), t]));
  for (const key of new Set([...was.keys(), ...now.keys()])) {
    const a = was.get(key);
    const b = now.get(key);
    if (tlbText(a) === tlbText(b)) continue;
    const t = (b ?? a)!;
    out.push({ cell: `tlb[${after.locks[t.domain]?.name ?? t.domain}][${t.frame}]`, before: tlbText(a), after: tlbText(b), domain: t.domain, frame: t.frame });
  }
  return out;
}
