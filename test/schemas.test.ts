// Every machine-readable output validates against its committed schema (docs/schemas/, with ajv), and
// regress --junit against the JUnit XSD kept in test/schemas/ (with xmllint, libxml2 compiled to
// WebAssembly). A schema that accepted anything would pass too, so each is also shown to refuse a
// document with a known fault.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { validateXML } from 'xmllint-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, json, ROOT, type Run } from './cli-run.js';

const SCHEMAS = join(ROOT, 'docs', 'schemas');
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
for (const f of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
const schema = (name: string): ValidateFunction => ajv.getSchema(`${name}.schema.json`)!;

function expectValid(name: string, doc: unknown): void {
  const v = schema(name);
  expect(v(doc), `${name}: ${ajv.errorsText(v.errors, { separator: '\n' })}`).toBe(true);
}

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const XSD = readFileSync(join(ROOT, 'test', 'schemas', 'junit.xsd'), 'utf8');
const xsdErrors = async (xml: string) =>
  (await validateXML({ xml: [{ fileName: 'regress.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: XSD }] })).errors.map((e) => e.message);

const dir = mkdtempSync(join(tmpdir(), 'checker-schemas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const VARIANT = join(ROOT, 'docs', 'examples', 'seed-teardown-fixed.ts');

let runs: Record<string, Run>;
beforeAll(async () => {
  const matrix = join(dir, 'matrix.json');
  writeFileSync(
    matrix,
    JSON.stringify({
      entries: [
        // a deviation: the seed's depth-2 leak where none is expected
        { name: 'seed/ept leak', version: 'seed', depth: 2, expect: { distinct: 318, violations: {}, witnesses: {} } },
        { name: 'xen-4.19 clean', version: 'xen-4.19', depth: 1, expect: { distinct: 27, violations: {}, witnesses: { 'foreign-mapping-exists': 1, 'domain-destroyed': 1 } } },
        // an entry that cannot run: reported as its own error, the others still run
        { name: 'no such mutant', mutant: 'nope', depth: 1 },
      ],
    }),
  );
  const entries = await Promise.all([
    ['explore', cli('explore', '--depth', '3', '--json', '--trace-out', join(dir, 'traces'))],
    ['all', cli('explore', '--depth', 'all', '--gfns', '1', '--spare-frames', '0', '--backend', 'pt', '--json')],
    ['mutant', cli('explore', '--mutant', 'ept-write-without-put', '--depth', '2', '--json', '--symmetry')],
    ['stopped', cli('explore', '--depth', '6', '--max-states', '300', '--exact', '--invariants', 'no-hypervisor-fault', '--json')],
    ['variant', cli('explore', '--variant', VARIANT, '--depth', '2', '--json', '--coverage')],
    ['variantText', cli('explore', '--variant', VARIANT, '--depth', '2', '--no-progress')],
    ['simulate', cli('simulate', '--runs', '20', '--seed', '3', '--json')],
    ['simulateClean', cli('simulate', '--xen', 'xen-4.19', '--runs', '3', '--steps', '5', '--seed', '1', '--json')],
    ['regress', cli('regress', '--matrix', matrix, '--json', '--junit', join(dir, 'regress.xml'), '--trace-out', join(dir, 'regress-traces'))],
  ] as const);
  runs = Object.fromEntries(await Promise.all(entries.map(async ([k, p]) => [k, await p] as const)));
});

describe('every JSON document names its schema and tool', () => {
  it.each(['explore', 'all', 'mutant', 'stopped', 'variant', 'simulate', 'simulateClean', 'regress'])('%s', (k) => {
    const j = json(runs[k]!);
    expect(j.schemaVersion).toBe(1);
    expect(j.tool).toBe('checker');
    expect(j.toolVersion).toBe(VERSION);
  });
});

describe('explore --json', () => {
  it.each(['explore', 'all', 'mutant', 'stopped', 'variant'])('%s validates against explore.schema.json', (k) => {
    expectValid('explore', json(runs[k]!));
  });

  it("a variant run's override counts and --coverage's report are in the document, and valid", () => {
    const j = JSON.parse(runs.variant!.stdout);
    expectValid('explore', j);
    expect(j.overrides.map((o: any) => o.name).sort()).toEqual(['p2mAddForeign', 'relinquishP2mMapping']);
    expect(j.coverage.transitions.length).toBeGreaterThan(0);
    expect(j.coverage.functions.find((f: any) => f.name === 'p2mAddForeign')).toMatchObject({ override: true });
  });

  it('names the mutant, the variant and --symmetry in its configuration and search', () => {
    const m = json(runs.mutant!);
    expect(m.configuration.mutant).toBe('ept-write-without-put');
    expect(m.configuration.variant).toBeNull();
    expect(m.search.symmetry).toBe(true);
    const v = json(runs.variant!);
    expect(v.configuration.variant).toEqual({ name: 'seed-teardown-fixed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(v.configuration.mutant).toBeNull();
    expect(json(runs.explore!).configuration).toMatchObject({ mutant: null, variant: null });
  });

  it('--depth all is depthBound null with toFixpoint, never the string "all"', () => {
    expect(json(runs.all!).search).toMatchObject({ depthBound: null, toFixpoint: true });
    const bad = { ...json(runs.all!), search: { ...json(runs.all!).search, depthBound: 'all' } };
    expect(schema('explore')(bad)).toBe(false);
  });

  it('times are whole milliseconds: a fraction is refused', () => {
    const j = json(runs.explore!);
    expect(Number.isInteger(j.elapsedMs)).toBe(true);
    expect(schema('explore')({ ...j, elapsedMs: 12.5 })).toBe(false);
  });

  it('a document without its schemaVersion, or with an unknown field, is refused', () => {
    const { schemaVersion: _, ...rest } = json(runs.explore!);
    expect(schema('explore')(rest)).toBe(false);
    expect(schema('explore')({ ...json(runs.explore!), depthBound: 3 })).toBe(false);
  });
});

describe('the header names the variant and the report closes with the verdict', () => {
  it('pins both lines of a variant run', () => {
    const r = runs.variantText!;
    expect(r.status, r.stderr).toBe(0);
    const ls = r.stdout.trimEnd().split('\n');
    expect(ls[0]).toBe(
      `checker explore: variant seed-teardown-fixed of seed (${VARIANT}) on ept; domains dom0:pvh:hw,dom1:pvh:dm=dom2,dom2:hvm; 2 gfns each, 7 frames; 57 actions; depth 2`,
    );
    expect(ls.at(-1)).toBe('verdict: all 9 invariants hold to depth 2; exit 0');
  });

  it('the JSON carries the same verdict line', () => {
    expect(json(runs.explore!).verdict).toBe(
      'verdict: 3 of 9 invariants violated (refcount-matches-holders at depth 2, cleanup-possible at depth 2, no-orphan-reference at depth 3); 6 hold to depth 3; exit 12',
    );
    expect(json(runs.stopped!).verdict).toMatch(/^verdict: the invariant holds to depth \d; stopped by --max-states before depth 6; exit 3$/);
  });
});

describe('simulate --json', () => {
  it.each(['simulate', 'simulateClean'])('%s validates against simulate.schema.json', (k) => {
    expectValid('simulate', json(runs[k]!));
  });
});

describe('trace show --format json and the ITF traces', () => {
  it('every trace written validates against itf.schema.json, and its rendering against trace-show.schema.json', async () => {
    const files = readdirSync(join(dir, 'traces'));
    expect(files.length).toBeGreaterThan(1);
    const shows = await Promise.all(files.map((f) => cli('trace', 'show', join(dir, 'traces', f), '--format', 'json')));
    files.forEach((f, i) => {
      expectValid('itf', JSON.parse(readFileSync(join(dir, 'traces', f), 'utf8')));
      const j = json(shows[i]!);
      expectValid('trace-show', j);
      expect(j.command).toBe('trace show');
      expect(j.replay).toMatch(/^checker replay --path \d/);
    });
  });

  it('a --granularity steps run: its JSON carries granularity and vCPUs, and validates (its traces: test/serve-steps.test.ts)', async () => {
    const r = await cli('explore', '--xen', 'xen-4.19', '--granularity', 'steps', '--vcpus', '2', '--ops', 'decrease_reservation,add_to_physmap_foreign', '--depth', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = json(r);
    expect(j.configuration).toMatchObject({ granularity: 'steps', vcpus: 2 });
    expectValid('explore', j);
    // a configuration with a granularity of another name is refused
    expect(schema('explore')({ ...j, configuration: { ...j.configuration, granularity: 'atomic' } })).toBe(false);
  });

  it('a trace with a plain number for an integer is refused by the ITF schema', () => {
    const f = readdirSync(join(dir, 'traces'))[0]!;
    const t = JSON.parse(readFileSync(join(dir, 'traces', f), 'utf8'));
    t.states[0].armedFailures = 0;
    expect(schema('itf')(t)).toBe(false);
  });
});

describe('regress', () => {
  it('--json validates against regress.schema.json; a deviation and an entry that cannot run are both reported', () => {
    const r = runs.regress!;
    expect(r.status, r.stderr).toBe(12); // a deviation wins over an entry in error
    const j = json(r);
    expectValid('regress', j);
    expect(j.entries.map((e: any) => e.status)).toEqual(['failed', 'ok', 'error']);
    expect(j.totals).toEqual({ entries: 3, failed: 1, errors: 1 });
    expect(j.entries[0].command).toBe('checker explore --xen seed --depth 2');
    expect(j.entries[0].counterexamples[0].file).toMatch(/regress-traces\/seed_ept_leak\/refcount-matches-holders\.itf\.json$/);
    expect(r.stderr).toMatch(/^checker: entry "no such mutant": --mutant: unknown mutant "nope"/);
  });

  it('--junit validates against the JUnit XSD and carries the counterexample and the command that reproduces it', async () => {
    const xml = readFileSync(join(dir, 'regress.xml'), 'utf8');
    expect(await xsdErrors(xml)).toEqual([]);
    expect(xml).toMatch(/<testsuite [^>]*tests="3" failures="1" errors="1"/);
    const failure = /<failure message="[^"]*" type="deviation">([\s\S]*?)<\/failure>/.exec(xml)![1]!;
    expect(failure).toContain('reproduce: checker explore --xen seed --depth 2');
    expect(failure).toContain('counterexample: refcount-matches-holders (depth 2)');
    expect(failure).toContain('replay: checker replay --path 28,55');
    expect(xml).toMatch(/<error message="entry &quot;no such mutant&quot;: --mutant: unknown mutant/);
    expect(xml).toMatch(/<system-out>== seed\/ept leak/);
  });

  it('--trace-out wrote the failing entry\'s traces, which replay', async () => {
    const d = join(dir, 'regress-traces', 'seed_ept_leak');
    expect(readdirSync(d).sort()).toEqual(['cleanup-possible.itf.json', 'refcount-matches-holders.itf.json']);
    const r = await cli('replay', join(d, 'refcount-matches-holders.itf.json'));
    expect(r.status).toBe(12);
  });

  it('the XSD refuses what both JUnit schemas refuse: a suite without hostname, timestamp or errors', async () => {
    const xml = readFileSync(join(dir, 'regress.xml'), 'utf8');
    for (const attr of ['hostname', 'timestamp', 'errors']) {
      const errors = await xsdErrors(xml.replace(new RegExp(` ${attr}="[^"]*"`), ''));
      expect(errors.join('\n')).toContain(`The attribute '${attr}' is required but missing`);
    }
  });
});
