// The left column: the traces of the folder (with a filter), a trace file of your own (chosen or
// dropped), and the booted state of a universe of your choosing.
import { useState } from 'preact/hooks';
import type { Info, TargetSpec, TraceList, TraceListEntry } from '../protocol.js';

/** Whether every word of the filter is in the trace's name, property or configuration. */
function listed(t: TraceListEntry, filter: string): boolean {
  const hay = `${t.name} ${t.property ?? ''} ${t.configuration ?? ''} ${t.error ?? ''}`.toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .every((w) => hay.includes(w));
}

export function TraceFolder(props: { list: TraceList | null; current: string | null; onOpen: (name: string) => void; onRefresh: () => void }) {
  const l = props.list;
  const [filter, setFilter] = useState('');
  const shown = l?.traces.filter((t) => listed(t, filter.trim())) ?? [];
  return (
    <section class="folder" aria-labelledby="folder-title">
      <h2 id="folder-title">
        Traces{' '}
        <button class="small" onClick={props.onRefresh} aria-label="read the trace folder again" title="read the folder again">
          ↻
        </button>
      </h2>
      {l === null ? (
        <div class="dim">…</div>
      ) : l.dir === null ? (
        <div class="dim">no trace folder (checker serve --trace-dir DIR)</div>
      ) : (
        <div class="dim dir" title={l.dir}>
          {l.dir}
        </div>
      )}
      {l !== null && l.dir !== null && l.traces.length === 0 && <div class="dim">no *.json in it yet (checker explore --trace-out {l.dir})</div>}
      {l !== null && l.traces.length > 0 && (
        <input class="trace-filter" type="search" aria-label="filter the traces" placeholder="filter: property, xen-4.19, steps…" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      )}
      {l !== null && (filter.trim() !== '' || l.total > l.traces.length) && (
        <div class="dim list-count" role="status">
          {filter.trim() !== '' && `${shown.length} of ${l.traces.length} shown`}
          {filter.trim() !== '' && l.total > l.traces.length && '; '}
          {l.total > l.traces.length && `the folder has ${l.total.toLocaleString('en-US')} trace files: the first ${l.traces.length.toLocaleString('en-US')} by name are listed`}
        </div>
      )}
      <ul class="trace-list">
        {shown.map((t) => (
          <li key={t.name}>
            <button class={`trace${props.current === t.name ? ' current' : ''}`} data-trace={t.name} disabled={t.error !== null} onClick={() => props.onOpen(t.name)} title={t.error ?? t.name}>
              <span class="name">{t.name}</span>
              <span class="dim">{t.error ?? `${t.property} · depth ${t.depth} · ${t.configuration}`}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function DropZone(props: { onFile: (f: File) => void }) {
  const [over, setOver] = useState(false);
  return (
    <section
      class={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        // handled here: the page-wide drop handler must not open the file a second time
        e.preventDefault();
        e.stopPropagation();
        setOver(false);
        const f = e.dataTransfer?.files[0];
        if (f) props.onFile(f);
      }}
    >
      Drop a trace file here, or{' '}
      <label class="choose">
        choose one
        <input
          type="file"
          class="file visually-hidden"
          accept=".json,application/json"
          onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            if (f) props.onFile(f);
            (e.target as HTMLInputElement).value = '';
          }}
        />
      </label>
    </section>
  );
}

export function BootForm(props: { info: Info; onBoot: (t: TargetSpec) => void }) {
  const { info } = props;
  const d = info.defaults;
  const [version, setVersion] = useState(d.version);
  const [backend, setBackend] = useState('');
  const [domains, setDomains] = useState(d.domains);
  const [gfns, setGfns] = useState(d.gfns);
  const [spare, setSpare] = useState(d.spareFrames);
  const [ops, setOps] = useState('');
  const [preemptible, setPreemptible] = useState(false);
  const [build, setBuild] = useState('');
  const [superpages, setSuperpages] = useState(false);
  const [dom0, setDom0] = useState(false);
  const [granularity, setGranularity] = useState('atomic');
  const [vcpus, setVcpus] = useState(2);
  // one select for what runs: a version, a mutant of the catalogue, or a variant the server loaded
  const [what, setWhat] = useState('version');
  const val = (e: Event) => (e.target as HTMLInputElement).value;
  const boot = () => {
    const [kind, name] = what.split(':', 2) as [string, string | undefined];
    const mutant = kind === 'mutant' ? info.mutants.find((m) => m.name === name) : undefined;
    props.onBoot({
      // a mutant runs on its base version; '' is the default backend (a mutant's own, else ept)
      version: mutant?.base ?? version,
      backend,
      domains,
      gfns,
      spareFrames: spare,
      ops: ops.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      destroyableDom0: dom0,
      preemptibleTeardown: preemptible,
      build,
      superpages,
      mutant: kind === 'mutant' ? name! : null,
      variant: kind === 'variant' ? name! : null,
      granularity,
      vcpus: granularity === 'steps' ? vcpus : 0,
    });
  };
  return (
    <section class="boot" aria-label="boot a universe">
      <h2>Boot a universe</h2>
      <label>
        run{' '}
        <select class="what" value={what} onChange={(e) => setWhat(val(e))}>
          <option value="version">a version</option>
          {info.variants.map((v) => (
            <option key={v.name} value={`variant:${v.name}`}>{`variant ${v.name} (${v.base})`}</option>
          ))}
          {info.mutants.map((m) => (
            <option key={m.name} value={`mutant:${m.name}`}>{`mutant ${m.name} (${m.base})`}</option>
          ))}
        </select>
      </label>
      {what === 'version' && (
        <label>
          version{' '}
          <select class="version" value={version} onChange={(e) => setVersion(val(e))}>
            {info.versions.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
      )}
      <label>
        backend{' '}
        <select class="backend" value={backend} onChange={(e) => setBackend(val(e))}>
          <option value="">default</option>
          {info.backends.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </label>
      <label>
        domains <input class="domains" value={domains} onInput={(e) => setDomains(val(e))} />
      </label>
      <label>
        gfns <input class="gfns" type="number" min={1} max={8} value={gfns} onInput={(e) => setGfns(Number(val(e)))} />
      </label>
      <label>
        spare frames <input class="spare" type="number" min={0} max={16} value={spare} onInput={(e) => setSpare(Number(val(e)))} />
      </label>
      <label>
        ops <input class="ops-input" placeholder="default" value={ops} onInput={(e) => setOps(val(e))} title={info.operations.join(', ')} />
      </label>
      <label>
        <input type="checkbox" checked={preemptible} onChange={(e) => setPreemptible((e.target as HTMLInputElement).checked)} /> preemptible teardown
      </label>
      <label>
        <input type="checkbox" checked={dom0} onChange={(e) => setDom0((e.target as HTMLInputElement).checked)} /> destroyable dom0
      </label>
      <label>
        build{' '}
        <select class="build" value={build} onChange={(e) => setBuild(val(e))}>
          <option value="">default</option>
          <option>debug</option>
          <option>release</option>
        </select>
      </label>
      <label>
        <input type="checkbox" class="superpages" checked={superpages} onChange={(e) => setSuperpages((e.target as HTMLInputElement).checked)} /> superpages
      </label>
      <label>
        granularity{' '}
        <select class="granularity" value={granularity} onChange={(e) => setGranularity(val(e))}>
          {info.granularities.map((g) => (
            <option key={g} value={g}>
              {g === 'steps' ? 'steps (vCPUs interleave)' : 'atomic (one call per step)'}
            </option>
          ))}
        </select>
      </label>
      {granularity === 'steps' && (
        <label>
          vCPUs <input class="vcpus" type="number" min={1} max={info.maxVcpus} value={vcpus} onInput={(e) => setVcpus(Number(val(e)))} />
        </label>
      )}
      <button class="boot-button" onClick={boot}>
        boot
      </button>
    </section>
  );
}
