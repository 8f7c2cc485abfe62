// What a trace file is checked against: the states the model gives, compared value by value (never
// byte by byte: an edited count of 258 is not the model's 2), and the message the model gives.
import type { State } from '../../model/index.js';

/**
 * The first cell where two states differ, as "frames[4].count: recorded 258, the model gives 2", or
 * null when they are equal. Values are compared decoded: a number is compared as a number, so no
 * edit can hide behind an encoding's wrap.
 */
export function stateDifference(recorded: State, model: State): string | null {
  // With steps granularity an ITF state records the hypervisor's state; where each vCPU stands
  // follows from the replayed path (and the step texts say it), so that part is not compared.
  if (recorded.steps === undefined && model.steps !== undefined) {
    const { steps: _steps, ...hypervisor } = model;
    return diff(recorded, hypervisor, '');
  }
  return diff(recorded, model, '');
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function diff(a: unknown, b: unknown, where: string): string | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${where || 'the state'}: recorded ${show(a)}, the model gives ${show(b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${where}: recorded ${a.length} items, the model gives ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = diff(a[i], b[i], `${where}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(bo), ...Object.keys(ao)])) {
    const d = diff(ao[k], bo[k], where === '' ? k : `${where}.${k}`);
    if (d !== null) return d;
  }
  return null;
}
