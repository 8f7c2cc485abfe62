// `checker list [what]`: invariants, witnesses, operations, versions, mutants.
import { FAULT_KINDS, FAULTS, MUTANTS, OPERATIONS, VERSIONS } from '../../model/index.js';
import { INVARIANTS, WITNESSES } from '../../invariants/index.js';
import { UsageError } from './common.js';

export function runList(what: string, verbose: boolean, out: (s: string) => void): void {
  const sections: Record<string, string[]> = {
    invariants: INVARIANTS.map((i) => `${i.name.padEnd(28)} ${i.description}`),
    witnesses: WITNESSES.map((w) => `${w.name.padEnd(38)} ${w.description}`),
    operations: [...OPERATIONS],
    versions: [...VERSIONS],
    faults: FAULT_KINDS.map((k) => `${k.padEnd(40)} ${FAULTS[k].assertion.padEnd(18)} ${FAULTS[k].text}; ${FAULTS[k].release}`),
    mutants: MUTANTS.map((m) => `${m.name.padEnd(44)} ${m.base}${m.universe?.backend ? '/' + m.universe.backend : ''}: expect ${m.expect.invariant} at depth ${m.expect.depth}`),
  };
  const keys = what === 'all' ? Object.keys(sections) : [what];
  for (const k of keys) {
    const lines = sections[k];
    if (!lines) throw new UsageError(`list: unknown list "${what}"; choose invariants, witnesses, operations, versions, mutants, faults or all`);
    if (k === 'mutants' && verbose) {
      out(MUTANTS.map((m) => `${m.name} (${m.base}): expect ${m.expect.invariant} at depth ${m.expect.depth}\n  ${m.description}`).join('\n\n') + '\n');
      continue;
    }
    if (what === 'all') out(`${k}:\n`);
    out(lines.map((l) => (what === 'all' ? `  ${l}` : l)).join('\n') + '\n');
  }
}
