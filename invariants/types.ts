// The shapes of a property. Each module of invariants/ exports one.
import type { Action, Rc, State, Universe, XenFunctions } from '../model/index.js';

export interface PropertyContext {
  readonly u: Universe;
  readonly xen: XenFunctions;
  /** cleanup-possible's memo of decided states (the explorer gives a fingerprint-keyed one). */
  readonly cleanupMemo?: import('./cleanup-possible.js').CleanupMemo;
}

/**
 * An "always" property. `check` judges a state, `checkTransition` a transition (pre, action, rc,
 * post); a property may have both parts under its one stable name. Each returns null when it holds,
 * or a precise message (which frame, which domains, expected and actual values, which entries).
 */
export interface Invariant {
  readonly kind: 'invariant';
  /** Stable name, used on the command line, in JSON, in ITF traces and in regression files. */
  readonly name: string;
  /** One line. */
  readonly description: string;
  check?(s: State, c: PropertyContext): string | null;
  checkTransition?(pre: State, a: Action, rc: Rc, post: State, c: PropertyContext): string | null;
  /**
   * True when a transition that leaves the state unchanged can never violate the transition part:
   * the explorer then skips it on self-loops (most failing calls), which is most transitions.
   */
  readonly holdsOnSelfLoops?: boolean;
  /** For a reference-count property: the frame a violation in `s` is about (its ledger is shown). */
  subjectFrame?(s: State, c: PropertyContext): number | null;
  /**
   * Where the property is judged in universe `u` when that is not every state it sees ("in states with
   * no hypercall in flight"), said with every verdict of it; null or absent: every state.
   */
  scope?(u: Universe): string | null;
}

/** A "sometimes" property: reached in some state or transition, or the model is vacuous. */
export interface Witness {
  readonly kind: 'witness';
  readonly name: string;
  readonly description: string;
  holds?(s: State, c: PropertyContext): boolean;
  holdsTransition?(pre: State, a: Action, rc: Rc, post: State, c: PropertyContext): boolean;
}

export type Property = Invariant | Witness;
