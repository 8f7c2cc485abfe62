// Keeping a trace: the command line that replays it (its universe's every flag and the replay
// token: a token alone replays on whatever universe the reader's defaults give), a download of the
// trace as the ITF file `checker explore --trace-out` would write, which `checker replay` reads, and
// one as the C program `checker trace export --format c` writes, for dom0 of a Xen host.
import { useState } from 'preact/hooks';
import type { ReproducerView, TraceView } from '../protocol.js';
import { api } from './api.js';

/** Offers `text` as a file download (a link to a blob, clicked). */
function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
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
  const [program, setProgram] = useState<{ trace: TraceView; r: ReproducerView } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const violated = t.violations.some((v) => v.length > 0);
  const save = () => {
    setError(null);
    api.export(t.target, t.path, t.property).then(
      (x) => {
        download(x.name, JSON.stringify(x.itf, null, 1) + '\n', 'application/json');
        setSaved({ trace: t, command: x.command });
      },
      (e: Error) => setError(e.message),
    );
  };
  const saveC = () => {
    setError(null);
    api.reproducer(t.target, t.path, t.property).then(
      (r) => {
        download(r.name, r.source, 'text/x-csrc');
        setProgram({ trace: t, r });
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
        <button class="export-c" disabled={!violated} onClick={saveC}>
          download as a C reproducer
        </button>{' '}
        {!violated && <span class="dim">nothing is violated along this {t.kind === 'walk' ? 'walk' : 'trace'}: it is no counterexample to save</span>}
        {saved !== null && saved.trace === t && (
          <span class="saved">
            {' '}
            saved; then <code class="command">{saved.command}</code>
          </span>
        )}
        {program !== null && program.trace === t && (
          <div class="program">
            <div>
              {program.r.name} ({program.r.kind}): build it on the host with <code class="command">{program.r.build}</code>, run it as root in dom0:{' '}
              <code class="command">{program.r.run}</code> (<code class="command">{program.r.run} --dry-run</code> shows what it would do)
            </div>
            {program.r.notes.map((n, i) => (
              <div key={i} class="dim">
                note: {n}
              </div>
            ))}
          </div>
        )}
        {error && <div class="error">{error}</div>}
      </div>
    </section>
  );
}
