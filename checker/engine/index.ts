// The generic explorer. Everything here knows only the Model interface: it imports nothing from
// model/, invariants/ or the rest of checker/ (test/house.test.ts fails if it ever does).
export type { Model, EngineInvariant, EngineWitness } from './model.js';
export { explore, exploreAsync } from './bfs.js';
export { exploreParallel, sliceSizes, cutSlices, type ModelSpec } from './parallel.js';
export { Expander, enabledActions, identityEncoder, sameBytes, MAX_ACTIONS, ModelStepError, StepError, type ExpansionSink, type StepFailure } from './expand.js';
export { exploreOnThread, walksOnThread, Supervisor, GRACE_MS } from './thread.js';
export { FrontierBuffer, SpillFrontier, type LevelStates, type SpillOptions, type SpillStats } from './frontier.js';
export { CHECKPOINT_FILE, CHECKPOINT_FORMAT, CheckpointError, openCheckpoint, identityDifference, type CheckpointState, type CheckpointTarget, type OpenedCheckpoint } from './checkpoint.js';
export { checkResumable } from './resume.js';
export { Run, newStopFlag, requestStop, stopRequested, type HungStep, type ExploreOptions, type ExploreResult, type Discovery, type LevelStats, type Progress, type StopReason, type VisitedLinks, type VisitedStore, addTallies } from './run.js';
export { VisitedSet, FingerprintSet, TraceLinks, LinkedStates, addFingerprint, hasFingerprint } from './visited.js';
export { fingerprint, collisionProbability } from './fingerprint.js';
export { PartitionedVisited, partitionOf } from './partitioned.js';
export { NEW_STATE, expandSlice, insertPartition, type Segment, type Piece, type Found } from './slices.js';
export { replayPath } from './replay.js';
// Random walks load fast-check: they are not re-exported here (every run imports this file), but run
// on a thread of their own (walksOnThread), which imports ./walk.js.
export type { Walker, WalkOptions, WalkReport, WalkResult, WalkViolation } from './walk.js';
export { startCoverage, takeCoverage, type FunctionCoverage, type UncoveredBlock } from './coverage.js';
