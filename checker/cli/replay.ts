// `checker replay FILE`: re-executes an ITF counterexample on the configuration in its #meta.
import { EXIT } from './common.js';
import { readTraceFile } from '../trace/load.js';
import { replayTrace } from '../trace/replay.js';

export async function runReplay(file: string, f: { variant?: string }, out: (s: string) => void): Promise<number> {
  const tf = await readTraceFile(file, { variant: f.variant });
  const { meta, target } = tf;
  const r = replayTrace(tf);
  const lines = [`replaying ${file}: ${target.u.version} on ${target.u.backend}, ${meta.path.length} steps, property ${meta.property}`];
  lines.push(...r.steps.map((l) => `  ${l}`));
  if (r.violation !== null) {
    lines.push(`still violated: ${meta.property}: ${r.violation}`);
    out(lines.join('\n') + '\n');
    return EXIT.violation;
  }
  lines.push(`no longer violated: ${meta.property} holds along the whole trace`);
  out(lines.join('\n') + '\n');
  return EXIT.ok;
}
