// Keeping a trace: the command line that replays it (its universe's every flag and the replay
// token: a token alone replays on whatever universe the reader's defaults give), and a download of
// the trace as the ITF file `checker explore --trace-out` would write, which `checker replay` reads.
import { useState } from 'preact/hooks';
import type { TraceView } from '../protocol.js';
import { api } from './api.js';

/** Offers `text` as a file download (a link to a blob, clicked). */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Copy(props: { text: string; what: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      class="small copy"
      aria-label={`copy ${props.what}`}
      onClick={() => {
        void navigator.clipboard?.writeText(props.text).then(() => setDone(true), () => setDone(false));
      }}
    >
      {done ? 'copied' : 'copy'}
    </button>
  );
}

export function Keep(props: { trace: TraceView }) {
  const t = props.trace;
  const [saved, setSaved] = useState<{ trace: TraceView; command: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const violated = t.violations.some((v) => v.length > 0);
  const save = () => {
    setError(null);
    api.export(t.target, t.path, t.property).then(
      (x) => {
        download(x.name, JSON.stringify(x.itf, null, 1) + '\n');
        setSaved({ trace: t, command: x.command });
      },
      (e: Error) => setError(e.message),
    );
  };
  return (
    <section class="keep" aria-label="replay or save this trace">
      <div class="replay-command">
        <span class="dim">replay it: </span>
        <code class="command">{t.replay}</code> <Copy text={t.replay} what="the replay command" />
      </div>
      <div class="export">
        <button class="export-itf" disabled={!violated} onClick={save}>
          download as a trace file (ITF)
        </button>{' '}
        {!violated && <span class="dim">nothing is violated along this {t.kind === 'walk' ? 'walk' : 'trace'}: it is no counterexample to save</span>}
        {saved !== null && saved.trace === t && (
          <span class="saved">
            {' '}
            saved; then <code class="command">{saved.command}</code>
          </span>
        )}
        {error && <div class="error">{error}</div>}
      </div>
    </section>
  );
}
