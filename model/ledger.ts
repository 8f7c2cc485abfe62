// The reference ledger: while a trace is replayed for a person, every reference taken or dropped on a
// frame is recorded as it happens, with the Xen function that did it. Recording is off on the
// explorer's hot path (no ledger is active there).
import type { XenFunctions } from './xen.js';

export interface LedgerEvent {
  frame: number;
  /** +1 or -1 on the count; 0 for an event that does not change it (the frame is freed). */
  delta: number;
  /** The primitive: get_page, put_page, page_get_owner_and_reference, assign_pages, free_domheap_page. */
  what: string;
  /** What the reference is for, when the primitive says: "the allocation reference". */
  note?: string;
  /** The Xen functions on the call stack, outermost first (the operation's name at the bottom). */
  stack: string[];
}

export class Ledger {
  readonly stack: string[] = [];
  events: LedgerEvent[] = [];

  record(frame: number, delta: number, what: string, note?: string): void {
    const e: LedgerEvent = { frame, delta, what, stack: [...this.stack] };
    if (note !== undefined) e.note = note;
    this.events.push(e);
  }

  /** Takes the events recorded so far (one transition's worth). */
  take(): LedgerEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }
}

let active: Ledger | null = null;
let muted = false;

/** The ledger being recorded into, if any (primitives call this: null on the hot path). */
export function activeLedger(): Ledger | null {
  return muted ? null : active;
}

/**
 * Silences the ledger while `steps` granularity re-runs the part of a hypercall that earlier segments
 * already ran (its references were recorded then).
 */
export function muteLedger(m: boolean): void {
  muted = m;
}

/** Runs `f` with `l` recording (null: nothing recorded). */
export function withLedger<T>(l: Ledger | null, f: () => T): T {
  const before = active;
  active = l;
  try {
    return f();
  } finally {
    active = before;
  }
}

/**
 * The page primitives record their own events (get_page, put_page, ...): the ledger names the Xen
 * function that called them, so they do not go on the stack.
 */
const PRIMITIVES = new Set(['getPage', 'putPage', 'pageGetOwnerAndReference', 'freeDomheapPage', 'assignPages']);

/** The same table, each function pushing its name on the ledger's stack while it runs. */
export function tracedTable(xen: XenFunctions, l: Ledger): XenFunctions {
  const out: Record<string, unknown> = { ...xen };
  for (const [name, fn] of Object.entries(xen)) {
    if (typeof fn !== 'function' || PRIMITIVES.has(name)) continue;
    out[name] = (...args: unknown[]) => {
      l.stack.push(name);
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        l.stack.pop();
      }
    };
  }
  return out as unknown as XenFunctions;
}

/** "get_page in atomicWriteEptEntry" */
export function describeEvent(e: LedgerEvent): string {
  const where = e.stack.length > 0 ? ` in ${e.stack[e.stack.length - 1]}` : '';
  return `${e.delta > 0 ? '+1 ' : e.delta < 0 ? '-1 ' : ''}${e.what}${where}${e.note ? ` (${e.note})` : ''}`;
}
