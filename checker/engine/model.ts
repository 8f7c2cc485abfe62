// What the engine sees of a model (in the spirit of stateright's `Model` trait). The engine knows
// nothing else: the Xen model is wired to it in checker/xen-model.ts.

export interface Model<S, A, R = unknown> {
  /** The initial states (depth 0), in a fixed order. */
  init(): readonly S[];
  /** Actions enabled in `s`, in a deterministic order: an action's index is its position here. */
  actions(s: S): readonly A[];
  /**
   * The successor of `s` by `a`, and the transition's result (e.g. a return code). Must not mutate
   * `s`. The engine is done with `next` before it calls `step` again, so a model may hand back the
   * same scratch object every time.
   */
  step(s: S, a: A): { next: S; result: R };
  /** Length of the canonical encoding, the same for every state. */
  readonly encodedSize: number;
  /** Writes the canonical encoding of `s` into `out` (`encodedSize` bytes). */
  encode(s: S, out: Uint8Array): void;
  /**
   * Symmetry reduction: writes the encoding of the representative of `s`'s symmetry class, so that
   * symmetric states share one identity. Used with the `symmetry` option only.
   */
  canonicalEncode?(s: S, out: Uint8Array): void;
  /** Rebuilds a state from its encoding (frontier states are kept encoded). */
  decode(b: Uint8Array): S;
  /**
   * Optional, for the explorer's hot path: a stepper over states held in their encoding, which must
   * give exactly what decode, step and encode give (the model's tests check it on every transition).
   * Each call makes a new one (one per expander).
   */
  encodedStepper?(): EncodedStepper<S, A, R>;
  /** "Always" properties: a state part, a transition part, or both. */
  readonly invariants: readonly EngineInvariant<S, A, R>[];
  /** "Sometimes" properties. */
  readonly witnesses: readonly EngineWitness<S, A, R>[];
  /**
   * Optional, for partial-order reduction (sleep sets, checker/engine/sleep.ts): transitions named
   * across states, and what each step touched, so that two transitions enabled in one state can be
   * told independent (they commute, and neither disables the other).
   */
  reduction?: Reduction<A>;
  /**
   * Counters of the model's own (how many times each piece of a user's code ran): read at the end
   * of a run, in the thread that explored, and summed over threads.
   */
  tallies?(): Record<string, number>;
}

export interface EngineInvariant<S, A, R> {
  readonly name: string;
  /** null when it holds, else a message. */
  state?(s: S): string | null;
  /** `unchanged`: the successor's encoding equals the predecessor's (a self-loop). */
  transition?(pre: S, a: A, result: R, post: S, unchanged: boolean): string | null;
}

export interface EngineWitness<S, A, R> {
  readonly name: string;
  state?(s: S): boolean;
  transition?(pre: S, a: A, result: R, post: S): boolean;
}

/**
 * Steps one state by each of its actions in turn, on encodings: `load` a state's encoding, then
 * `step` it by one action after another, each from the loaded state.
 */
export interface EncodedStepper<S, A, R> {
  /** Loads the state to expand; the state returned is valid until the next load. */
  load(enc: Uint8Array): S;
  /** Steps the loaded state by `a`, the action of that index among its actions: the transition's result. */
  step(a: A, index: number): R;
  /** The last step's successor (valid until the next step). */
  state(): S;
  /** Its encoding (valid until the next step). */
  encoding(): Uint8Array;
  /** False when the last step changed nothing at all: the successor is the loaded state. */
  wrote(): boolean;
}

export interface Reduction<A> {
  /** Transition identities are 0 .. transitions-1; one identity in two states is the same transition. */
  readonly transitions: number;
  transitionId(a: A): number;
  /** The length of every footprint (32-bit words): they travel between threads as words. */
  readonly footprintWords: number;
  /** After `step` (or a stepper's step): what that step read and wrote (valid until the next step). */
  footprint(): Uint32Array;
  /** Whether two footprints of transitions enabled in one state commute. */
  independent(a: Uint32Array, b: Uint32Array): boolean;
}
