// What every JSON document the checker prints has in common: which schema it follows and which tool
// wrote it (docs/schemas/), the run's configuration, and a step of a counterexample.
import { actionArgs, type Action, type Universe } from '../../model/index.js';
import { TOOL_VERSION } from '../paths.js';
import { universeToConfig, type TraceConfig, type VariantRecord } from './itf.js';
import type { TraceStep } from './build.js';

/**
 * The version of the JSON documents' schemas (docs/schemas/*.schema.json), an integer: raised when a
 * field is removed, renamed or changes type; a field added keeps it.
 */
export const SCHEMA_VERSION = 1;

export type Command = 'explore' | 'simulate' | 'regress' | 'trace show';

/** The head of every document: read `schemaVersion` before anything else. */
export function envelope(command: Command): { schemaVersion: number; tool: 'checker'; toolVersion: string; command: Command } {
  return { schemaVersion: SCHEMA_VERSION, tool: 'checker', toolVersion: TOOL_VERSION, command };
}

/** The configuration of a run as the documents give it: the universe, and the mutant or variant checked (null when none). */
export function configurationJson(
  u: Universe,
  target: { mutant?: string | undefined; variantRecord?: VariantRecord | undefined },
): Omit<TraceConfig, 'mutant' | 'variant'> & { mutant: string | null; variant: VariantRecord | null } {
  return {
    ...universeToConfig(u),
    mutant: target.mutant ?? null,
    variant: target.variantRecord === undefined ? null : { name: target.variantRecord.name, sha256: target.variantRecord.sha256 },
  };
}

/**
 * An action's arguments with their own types: domains as names, gfns as integers, a switch as a
 * boolean (the text form says "on"/"off" for a person).
 */
export function typedArgs(u: Universe, a: Action): Record<string, string | number | boolean> {
  const args: Record<string, string | number | boolean> = { ...actionArgs(u, a) };
  if (a.op === 'set_log_dirty') args.on = a.on;
  return args;
}

/** One step of a counterexample in a document. */
export function stepJson(u: Universe, s: TraceStep): {
  step: number;
  actionIndex: number;
  action: string;
  args: Record<string, string | number | boolean>;
  rc: number | null;
  rcText: string;
} {
  return { step: s.index, actionIndex: s.actionIndex, action: s.action.op, args: typedArgs(u, s.action), rc: s.rc, rcText: s.rcText };
}
