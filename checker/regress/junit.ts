// JUnit XML for CI systems (Jenkins, GitLab, GitHub's test reporters). The document satisfies both
// common JUnit schemas at once (Ant's, which most readers follow, and Jenkins'), as
// test/schemas/junit.xsd states them: a suite with name, tests, failures, errors, time, timestamp,
// hostname, package and id; properties first; system-out and system-err last. A deviation is a
// <failure>, an entry that cannot run an <error>; either carries, in its text, what a person needs:
// the deviations, the counterexamples and the commands that reproduce them. Built by xmlbuilder2,
// which escapes every value and replaces characters XML 1.0 cannot hold.
import { hostname } from 'node:os';
import { create } from 'xmlbuilder2';
import { replayCommand } from '../trace/command.js';
import { renderCounterexample } from '../trace/report.js';
import { TOOL_VERSION } from '../paths.js';
import type { EntryOutcome } from './run.js';

export interface JunitInfo {
  matrix: string;
  /** When the run started. */
  started: Date;
  /** Trace files written per entry (by --trace-out): property → file. */
  traceFiles?: Map<string, Map<string, string>>;
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** ISO 8601 without a zone or fraction, as Ant's schema wants (in UTC). */
function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, '');
}

/** What a failing or erring entry says: its deviations, its counterexamples, the commands to reproduce. */
export function entryReport(o: EntryOutcome, files?: Map<string, string>): string {
  const lines: string[] = [];
  if (o.error !== null) lines.push(`cannot run: ${o.error}`);
  for (const d of o.deviations) lines.push(`deviation: ${d}`);
  lines.push('', `reproduce: ${o.command}`);
  for (const t of o.traces) {
    lines.push('', ...renderCounterexample(t, files?.get(t.property)));
    if (o.target) lines.push(`  replay: ${replayCommand(o.target.u, t.path, { mutant: o.target.mutant, variantFile: o.target.variant })}`);
  }
  return lines.join('\n');
}

export function junitXml(outcomes: readonly EntryOutcome[], info: JunitInfo): string {
  const failures = outcomes.filter((o) => o.error === null && o.deviations.length > 0).length;
  const errors = outcomes.filter((o) => o.error !== null).length;
  const total = outcomes.reduce((t, o) => t + o.elapsedMs, 0);
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\ufffd' });
  const suite = doc.ele('testsuites').ele('testsuite', {
    name: 'checker regress',
    package: 'checker.regress',
    id: '0',
    tests: String(outcomes.length),
    failures: String(failures),
    errors: String(errors),
    time: seconds(total),
    timestamp: timestamp(info.started),
    hostname: hostname() || 'localhost',
  });
  const props = suite.ele('properties');
  props.ele('property', { name: 'matrix', value: info.matrix });
  props.ele('property', { name: 'toolVersion', value: TOOL_VERSION });
  const out: string[] = [];
  for (const o of outcomes) {
    const tc = suite.ele('testcase', { classname: 'checker.regress', name: o.name, time: seconds(o.elapsedMs) });
    if (o.error === null && o.deviations.length === 0) continue;
    const report = entryReport(o, info.traceFiles?.get(o.name));
    if (o.error !== null) tc.ele('error', { message: o.error, type: 'cannot-run' }).txt(report);
    else tc.ele('failure', { message: o.deviations[0]!, type: 'deviation' }).txt(report);
    out.push(`== ${o.name}`, report, '');
  }
  // the same reports suite-wide, where readers that show only the suite's output find them
  suite.ele('system-out').txt(out.join('\n'));
  suite.ele('system-err');
  return doc.end({ prettyPrint: true }) + '\n';
}
