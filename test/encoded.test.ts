// The encoded stepper (model/encoded.ts), the explorer's hot path, against the reference route
// (plain objects: decode, applyInto, encodeState) on every transition of bounded explorations: the
// same return code, the same successor encoding, the same successor as the properties read it, the
// loaded state left as it was, and "wrote nothing" only for a self-loop. Every version × backend,
// superpages, preemptible teardown, release builds, the optional operations and every mutant.
import { describe, expect, it } from 'vitest';
import { explore } from '../checker/engine/index.js';
import { resolveTarget, wire, wireTarget, type TargetFlags } from '../checker/xen-model.js';
import {
  BACKENDS,
  copyStateInto,
  decodeState,
  EncodedStepper,
  formatAction,
  encodeState,
  makeUniverse,
  makeXenModel,
  MUTANTS,
  runInPlace,
  statesEqual,
  VERSIONS,
  type State,
  type Universe,
  type XenFunctions,
} from '../model/index.js';
import { INVARIANTS } from '../invariants/index.js';
import { PLAIN_DOMAINS } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Both routes on every transition of the states up to `depth`: the first disagreement (null when
 * none), and how many transitions were compared. (Plain comparisons per transition, one expect at
 * the end: expect is slow at a hundred thousand calls.)
 */
function agree(u: Universe, xen: XenFunctions | undefined, depth: number): { mismatch: string | null; compared: number } {
  const xm = makeXenModel(u, xen);
  const size = xm.encodedSize;
  const stepper = new EncodedStepper(xm.ctx);
  const scratch = xm.init();
  const out = new Uint8Array(size);
  const seen = new Set<string>();
  let level = [xm.encode(xm.init())];
  seen.add(hex(level[0]!));
  let compared = 0;
  for (let k = 0; k < depth && level.length > 0; k++) {
    const next: Uint8Array[] = [];
    for (const enc of level) {
      const pre = decodeState(u, enc);
      const loaded = stepper.load(enc);
      if (!statesEqual(loaded, pre)) return { mismatch: `${hex(enc)}: the loaded state reads differently`, compared };
      if (pre.fault !== null) continue;
      for (const a of xm.actions) {
        const where = `${hex(enc)} by ${formatAction(u, a)}`;
        let want: string;
        let bytes: string | null = null;
        try {
          const rc = xm.applyInto(scratch, pre, a);
          bytes = hex(encodeState(scratch, out));
          want = `rc ${rc} ${bytes}`;
        } catch (e) {
          want = String(e);
        }
        let got: string;
        try {
          const rc = stepper.step(a);
          got = `rc ${rc} ${hex(stepper.encoding())}`;
          if (bytes !== null && !statesEqual(stepper.state(), scratch)) return { mismatch: `${where}: the successor reads differently`, compared };
          if (!stepper.wrote() && hex(stepper.encoding()) !== hex(enc)) return { mismatch: `${where}: wrote nothing, yet differs`, compared };
        } catch (e) {
          got = String(e);
        }
        if (got !== want) return { mismatch: `${where}: ${got}, the reference ${want}`, compared };
        // the loaded state is what every step starts from: no step may change it
        if (!statesEqual(loaded, pre)) return { mismatch: `${where}: the loaded state changed`, compared };
        compared += 1;
        if (bytes !== null && !seen.has(bytes)) {
          seen.add(bytes);
          next.push(Uint8Array.from(Buffer.from(bytes, 'hex')));
        }
      }
    }
    level = next;
  }
  return { mismatch: null, compared };
}

/** Agreement on at least `atLeast` transitions (a bound that could be vacuous would say so). */
function expectAgreement(u: Universe, xen: XenFunctions | undefined, depth: number, atLeast: number): void {
  const r = agree(u, xen, depth);
  expect(r.mismatch).toBeNull();
  expect(r.compared).toBeGreaterThanOrEqual(atLeast);
}

const DEPTH = 3;

describe('the encoded stepper agrees with the reference route on every transition', () => {
  const configs = VERSIONS.flatMap((version) => BACKENDS.map((backend) => ({ version, backend })));
  it.each(configs)('$version on $backend, depth 3', ({ version, backend }) => {
    expectAgreement(makeUniverse({ version, backend }), undefined, DEPTH, 5_000);
  });
  it.each(VERSIONS)('%s with superpages, release build, set_log_dirty and fail_next_alloc', (version) => {
    const u = makeUniverse({ version, superpages: true, build: 'release', ops: 'populate_physmap,decrease_reservation,add_to_physmap_foreign,remove_from_physmap,destroy,set_log_dirty,fail_next_alloc' });
    expectAgreement(u, undefined, DEPTH, 5_000);
  });
  it.each(VERSIONS)('%s with preemptible teardown (debug, and release with superpages)', (version) => {
    expectAgreement(makeUniverse({ version, preemptibleTeardown: true }), undefined, DEPTH, 5_000);
    expectAgreement(makeUniverse({ version, preemptibleTeardown: true, build: 'release', superpages: true }), undefined, DEPTH, 5_000);
  });
  it("the universe without a device model (the benchmarks')", () => {
    expectAgreement(makeUniverse({ domains: PLAIN_DOMAINS }), undefined, DEPTH, 15_000);
  });
  // (atomic granularity: the stepper steps no steps state; a mutant made for steps may be run atomic)
  it.each(MUTANTS.map((m) => m.name))('mutant %s', async (mutant) => {
    const target = await resolveTarget({ mutant, granularity: 'atomic' } satisfies TargetFlags);
    expect(target.u.granularity).toBe('atomic');
    // a mutant made for steps comes with a universe of one gfn: its table runs on its base's default universe
    const madeForSteps = MUTANTS.find((m) => m.name === mutant)!.universe?.granularity === 'steps';
    const u = madeForSteps ? makeUniverse({ version: target.u.version, backend: target.u.backend }) : target.u;
    expectAgreement(u, target.xen, DEPTH, 1_000);
  });
});

describe('a step that throws on the encoded route runs again on the reference route', () => {
  it('a count that passes 255 within a step and comes back is what the reference computes', () => {
    const u = makeUniverse({ domains: PLAIN_DOMAINS });
    const xm = makeXenModel(u);
    // frame 2 (dom1's gfn 0) at count 255: decrease_reservation takes a reference (256), then drops
    // the allocation's (255) and its own (254), which fits
    const s = xm.init();
    s.frames[2]!.count = 255;
    const enc = xm.encode(s);
    const a = xm.actions.find((x) => x.op === 'decrease_reservation' && x.d === 1 && x.g === 0)!;
    const ref = xm.init();
    const rc = xm.applyInto(ref, decodeState(u, enc), a);
    expect(ref.frames[2]!.count).toBe(254);
    const stepper = new EncodedStepper(xm.ctx);
    stepper.load(enc);
    expect(stepper.step(a)).toBe(rc);
    expect(stepper.wrote()).toBe(true);
    expect(hex(stepper.encoding())).toBe(hex(xm.encode(ref)));
    expect(statesEqual(stepper.state(), ref)).toBe(true);
    // and the next step starts from the loaded state again, on the views
    const noop = xm.actions.find((x) => x.op === 'populate_physmap' && x.d === 1 && x.g === 0)!;
    const rc2 = stepper.step(noop);
    const ref2 = xm.init();
    expect(rc2).toBe(xm.applyInto(ref2, decodeState(u, enc), noop));
    expect(hex(stepper.encoding())).toBe(hex(xm.encode(ref2)));
  });

  it('an exception of the step itself is thrown as the reference throws it', () => {
    const u = makeUniverse({ domains: PLAIN_DOMAINS });
    const base = makeXenModel(u).ctx.xen;
    const xen: XenFunctions = {
      ...base,
      populatePhysmap: (ctx, s, d, g) => {
        s.frames[0]!.count = 7;
        if (d === 1) throw new TypeError(`boom at gfn ${g}`);
        return base.populatePhysmap(ctx, s, d, g);
      },
    };
    const xm = makeXenModel(u, xen);
    const stepper = new EncodedStepper(xm.ctx);
    stepper.load(xm.encode(xm.init()));
    const a = xm.actions.find((x) => x.op === 'populate_physmap' && x.d === 1)!;
    expect(() => stepper.step(a)).toThrow(new TypeError('boom at gfn 0'));
    // the stepper is usable after it: the next step starts from the loaded state
    const b = xm.actions.find((x) => x.op === 'populate_physmap' && x.d === 2)!;
    const ref = xm.init();
    const rc = runInPlace(xm.ctx, (copyStateInto(ref, xm.init()), ref), b);
    expect(stepper.step(b)).toBe(rc);
    expect(hex(stepper.encoding())).toBe(hex(xm.encode(ref)));
  });

  it('a value that does not fit at the end of the step is refused as encodeState refuses it', () => {
    const u = makeUniverse({ domains: PLAIN_DOMAINS });
    const base = makeXenModel(u).ctx.xen;
    const xen: XenFunctions = { ...base, populatePhysmap: (_ctx, s) => ((s.frames[1]!.count = 300), 0) };
    const xm = makeXenModel(u, xen);
    const stepper = new EncodedStepper(xm.ctx);
    stepper.load(xm.encode(xm.init()));
    expect(() => stepper.step(xm.actions[0]!)).toThrow(/frame count 300 is not a value of the model/);
  });
});

describe('explorations through the encoded stepper and the reference route are identical', () => {
  const plainAndEncoded = (u: Universe, depth: number, symmetry = false) => {
    const a = explore(wire(u, { encoded: false, symmetry }).model, { maxDepth: depth, symmetry });
    const b = explore(wire(u, { symmetry }).model, { maxDepth: depth, symmetry });
    expect(b.levels).toEqual(a.levels);
    expect(b.violations).toEqual(a.violations);
    expect(b.witnesses).toEqual(a.witnesses);
    return b;
  };
  it('seed/ept, depth 4', () => {
    expect(plainAndEncoded(makeUniverse({}), 4).violations.length).toBeGreaterThan(0);
  });
  it('xen-4.19/ept with preemptible teardown and symmetry (three PVH domains), depth 4', () => {
    const u = makeUniverse({ version: 'xen-4.19', domains: 'dom0:pvh:hw,dom1:pvh,dom2:pvh,dom3:pvh', gfns: 1, preemptibleTeardown: true });
    expect(plainAndEncoded(u, 4, true).distinct).toBeGreaterThan(1000);
  });
});

describe('which route a run takes', () => {
  // A user's code may spread or serialise a state, which sees nothing of a view's fields; --coverage
  // counts transitions in the model's step, which the stepper does not call.
  const stepped = (w: { model: { encodedStepper?: unknown } }) => w.model.encodedStepper !== undefined;
  it('versions and mutants take the encoded stepper', async () => {
    expect(stepped(wireTarget(await resolveTarget({ version: 'xen-4.19' } satisfies TargetFlags)))).toBe(true);
    expect(stepped(wireTarget(await resolveTarget({ mutant: MUTANTS[0]!.name } satisfies TargetFlags)))).toBe(true);
    expect(stepped(wire(makeUniverse({})))).toBe(true);
  });
  it('a variant, a --properties module, --coverage, immer, steps granularity and a table of the caller\'s own take the plain route', async () => {
    const variant = await resolveTarget({ variant: 'docs/examples/seed-teardown-fixed.ts' } satisfies TargetFlags);
    expect(stepped(wireTarget(variant))).toBe(false);
    const plainTarget = await resolveTarget({} satisfies TargetFlags);
    const mine = { ...INVARIANTS[0]!, name: 'mine' };
    expect(stepped(wireTarget({ ...plainTarget, properties: { invariants: [mine], witnesses: [] } }))).toBe(false);
    expect(stepped(wireTarget(plainTarget, undefined, false, { coverage: true }))).toBe(false);
    expect(stepped(wire(makeUniverse({}), { immer: true }))).toBe(false);
    expect(stepped(wire(makeUniverse({}), { xen: variant.xen }))).toBe(false);
    expect(stepped(wire(makeUniverse({ granularity: 'steps' })))).toBe(false);
  });
});

describe('views read the bytes', () => {
  it('the loaded state reads as its decoding, and a new load replaces it', () => {
    const u = makeUniverse({});
    const xm = makeXenModel(u);
    const stepper = new EncodedStepper(xm.ctx);
    const boot = xm.init();
    const after: State = decodeState(u, xm.encode(boot));
    after.frames[6]!.owner = 1;
    after.domains[2]!.life = 'dying';
    after.domains[2]!.relinquish = { phase: 'memory', cursor: 3 };
    after.p2m[1]![1] = { type: 'map_foreign', mfn: 4 };
    after.fault = { kind: 'put_page-null', frame: null };
    const s = stepper.load(xm.encode(after));
    expect(statesEqual(s, after)).toBe(true);
    expect([s.domains[2]!.relinquish?.phase, s.domains[2]!.relinquish?.cursor]).toEqual(['memory', 3]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(JSON.parse(JSON.stringify(after)));
    expect(s.fault).toEqual({ kind: 'put_page-null', frame: null });
    stepper.load(xm.encode(boot));
    expect(statesEqual(s, boot)).toBe(true);
  });
});
