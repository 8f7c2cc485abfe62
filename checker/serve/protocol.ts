// The JSON the server answers and the page reads: types only, shared by both sides (the page is
// bundled apart and imports nothing else from the server).
//
// States travel as views, not as the model's State: every field of a frame, a domain or a p2m entry
// is carried as text beside the few the drawing needs (owner, count, mfn...), so a field the model
// gains later is shown, and diffed, without the page knowing it.

/** A universe and what runs in it, as the page names it (and sends back to step or search). */
export interface TargetSpec {
  version: string;
  backend: string;
  /** `dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm` */
  domains: string;
  gfns: number;
  spareFrames: number;
  ops: string[];
  destroyableDom0: boolean;
  preemptibleTeardown: boolean;
  /** `debug` or `release`; '' for the default (a mutant's own, else debug). */
  build: string;
  superpages: boolean;
  /** A mutant of the catalogue, by name. */
  mutant: string | null;
  /** A variant the server was started with (`--variant FILE`), by its name. */
  variant: string | null;
  /** `atomic` (one hypercall per step) or `steps` (one segment of one vCPU's hypercall per step). */
  granularity: string;
  /** With `steps`: the toolstack's vCPUs (0 with atomic). */
  vcpus: number;
}

/** A field as a person reads it: its name and its value as text. */
export type Field = [name: string, text: string];

export interface FrameView {
  index: number;
  /** `free`, `dom_cow` or a domain's name. */
  owner: string;
  /** The owning domain's index, when a domain owns it. */
  ownerDomain: number | null;
  free: boolean;
  count: number | null;
  /**
   * Allocation reference plus the foreign entries of p2ms that still exist plus the references calls
   * in flight hold (steps granularity): what count should be, as refcount-matches-holders counts.
   */
  held: number | null;
  /** Of `held`, the references calls in flight hold. */
  inFlight: number;
  /** Every field of the frame, in the model's order. */
  fields: Field[];
}

export interface DomainView {
  index: number;
  name: string;
  kind: string;
  hardware: boolean;
  life: string | null;
  /** Every field of the domain, in the model's order. */
  fields: Field[];
}

export interface EntryView {
  gfn: number;
  /** The p2m type, or null when the entry has none the page knows. */
  type: string | null;
  mfn: number | null;
  foreign: boolean;
  /** The whole entry as one line. */
  text: string;
}

export interface StateView {
  frames: FrameView[];
  domains: DomainView[];
  /** p2m[d][g], null for an empty entry; a row the page cannot read as entries is in `other`. */
  p2m: (EntryView | null)[][];
  fault: string | null;
  /** Top-level fields other than frames, domains, p2m, fault and the interleaving. */
  other: Field[];
  /** With steps granularity: the vCPUs, p2m locks and pending TLB flushes; null with atomic. */
  interleaving: InterleavingView | null;
}

/** A toolstack vCPU of steps granularity. */
export interface VcpuView {
  index: number;
  /** `vcpu0` */
  name: string;
  /** The hypercall in flight, or null when idle. */
  call: string | null;
  /** Where it stopped, in the command line's words ("guestRemovePage: before put_page(frame 2)"), or `idle`. */
  at: string;
  /** The domain whose p2m lock its next segment takes, or null. */
  takesLock: number | null;
  /** Whether another vCPU holds that lock: the vCPU waits. */
  blocked: boolean;
  /** Domains whose p2m lock it holds. */
  holds: number[];
  /** References its call holds that no holder accounts for yet (negative: a put before the write that drops the holder). */
  references: { frame: number; count: number }[];
}

export interface LockView {
  domain: number;
  name: string;
  /** The vCPU holding the domain's p2m lock, or null. */
  holder: number | null;
  depth: number;
  /** vCPUs waiting for this lock (their next segment takes it, another vCPU holds it). */
  waiters: number[];
}

export interface InterleavingView {
  vcpus: VcpuView[];
  locks: LockView[];
  /** TLB slots whose flush is pending (the flush waits for the p2m unlock); stale: the frame was freed and handed out again since. */
  tlb: { domain: number; frame: number; stale: boolean }[];
}

export interface ChangeView {
  cell: string;
  before: string;
  after: string;
  frame?: number;
  domain?: number;
}

export interface LedgerEventView {
  frame: number;
  delta: number;
  /** "+1 get_page in atomicWriteEptEntry" */
  text: string;
}

export interface StepView {
  /** 1-based: the step from states[index - 1] to states[index]. */
  index: number;
  actionIndex: number;
  text: string;
  op: string;
  args: Record<string, string | number>;
  rc: number | null;
  rcText: string;
  changes: ChangeView[];
  ledger: LedgerEventView[];
  /** With steps granularity: the vCPU whose segment this step ran. */
  vcpu: number | null;
}

export interface Violation {
  name: string;
  message: string;
  /** The frames and p2m entries the message names (drawn marked). */
  frames: number[];
  entries: { domain: number; gfn: number }[];
}

export interface UniverseView {
  version: string;
  backend: string;
  domains: { name: string; kind: string; hardware: boolean }[];
  gfns: number;
  frames: number;
}

/** A trace (a file's, a walk taken by hand, or a search's result), with every state. */
export interface TraceView {
  kind: 'trace' | 'walk' | 'search';
  title: string;
  /** The trace file's name, for a trace of the folder or one dropped on the page. */
  source: string | null;
  target: TargetSpec;
  /** "mutant NAME of BASE", "variant NAME of BASE", or null for a plain version. */
  label: string | null;
  universe: UniverseView;
  /** The property the trace violates (a trace file's, or the one a search found). */
  property: string | null;
  message: string | null;
  /** For a reference-count property, the frame it is about. */
  subjectFrame: number | null;
  /** Action indices from the booted state. */
  path: number[];
  states: StateView[];
  steps: StepView[];
  /** Per state: the invariants it (or the step into it) violates. */
  violations: Violation[][];
  /** Per frame: its reference ledger along the trace, as lines. */
  ledgers: string[][];
  /** For a search: the state it started from (an index into states). */
  from: number | null;
  /** The command line that walks the same path again: `checker replay --xen ... --path TOKEN`. */
  replay: string;
}

export interface OperationView {
  actionIndex: number;
  text: string;
  op: string;
  rc: number | null;
  rcText: string;
  changes: ChangeView[];
  /** Invariants the step would violate that the state does not already violate (their messages). */
  violates: Violation[];
}

export interface SuccessorsView {
  /** False in a faulted state: it has no successors. */
  enabled: boolean;
  /** Invariants the state (or the step into it) already violates. */
  already: Violation[];
  operations: OperationView[];
}

export interface SearchView {
  /** The shortest path to a violation from the state, as a trace from the booted state. */
  found: TraceView | null;
  /** Steps from the state to the violation. */
  distance: number | null;
  depth: number;
  distinct: number;
  /** Invariants already violated in the start state (the search looks for the others). */
  already: Violation[];
  /** Why the search ended early, if it did: "max-states" ... */
  stopped: string | null;
  /** True when the whole reachable graph from the state was explored. */
  fixpoint: boolean;
  /** The deepest level (from the state) explored in full. */
  complete: number;
  /** What was checked, in the command line's words: "holds to depth 7 from step 0 (depth 8 partly explored); ..." */
  summary: string;
  elapsedMs: number;
}

/** A line of a search's progress (POST /api/search with Accept: application/x-ndjson). */
export interface SearchProgress {
  depth: number;
  distinct: number;
  generated: number;
  elapsedMs: number;
}

/** A walk or a search result as a C program for dom0 of a Xen host (POST /api/reproducer). */
export interface ReproducerView {
  /** A file name for it: `PROPERTY.c`. */
  name: string;
  source: string;
  property: string;
  /** How it runs the calls: `sequential`, `threads-barriers` or `race-loop`. */
  kind: string;
  /** What to know before running it, one sentence each. */
  notes: string[];
  /** The command that builds it on the host, and how to run it. */
  build: string;
  run: string;
}

/** A walk or a search result as a trace file (POST /api/export). */
export interface ExportView {
  /** A file name for it: `PROPERTY.itf.json`. */
  name: string;
  /** The ITF document, as `checker explore --trace-out` writes it. */
  itf: unknown;
  property: string;
  /** `checker replay NAME` (with `--variant FILE` for a variant's). */
  command: string;
}

export interface TraceListEntry {
  name: string;
  property: string | null;
  depth: number | null;
  configuration: string | null;
  /** Why it cannot be opened, when it cannot. */
  error: string | null;
}

export interface TraceList {
  dir: string | null;
  traces: TraceListEntry[];
  /** Trace files in the folder: more than `traces` when the list is cut. */
  total: number;
}

export interface Info {
  tool: string;
  traceDir: string | null;
  versions: string[];
  backends: string[];
  operations: string[];
  mutants: { name: string; base: string }[];
  variants: { name: string; base: string; file: string }[];
  invariants: string[];
  defaults: TargetSpec;
  granularities: string[];
  maxVcpus: number;
  maxSearchDepth: number;
  /** Distinct states a search may store before it stops (`checker serve --max-states`). */
  maxStates: number;
}

export interface ApiError {
  error: string;
}
