import { domainName, formatOwner } from '../model/index.js';
import { foreignEntryCounts, foreignHolders, formatHolders, inFlightReferences } from './holders.js';
import type { Invariant } from './types.js';

export const refcountMatchesHolders: Invariant = {
  kind: 'invariant',
  name: 'refcount-matches-holders',
  description: "every non-free frame's count equals its allocation reference plus the foreign entries mapping it",
  check(s, { u }) {
    const mapped = foreignEntryCounts(s);
    for (let m = 0; m < s.frames.length; m++) {
      const f = s.frames[m]!;
      if (f.owner === null) continue;
      const inFlight = s.steps === undefined ? 0 : inFlightReferences(s, m);
      if (f.count === (f.allocated ? 1 : 0) + mapped[m]! + inFlight) continue;
      const holders = foreignHolders(s, m);
      const expected = (f.allocated ? 1 : 0) + holders.length + inFlight;
      {
        const owner = typeof f.owner === 'number' ? `${domainName(u, f.owner)}, ${s.domains[f.owner]!.life}` : formatOwner(u, f.owner);
        return (
          `frame ${m} (owner ${owner}): count ${f.count}, expected ${expected} = ` +
          `allocated ${f.allocated ? 1 : 0} + ${holders.length} foreign entries [${formatHolders(u, holders)}]` +
          (inFlight !== 0 ? ` + ${inFlight} held by hypercalls in flight` : '') +
          (f.count > expected ? `: ${f.count - expected} reference(s) held by nothing` : `: ${expected - f.count} holder(s) without a reference`)
        );
      }
    }
    return null;
  },
  subjectFrame(s) {
    const mapped = foreignEntryCounts(s);
    const m = s.frames.findIndex((f, i) => f.owner !== null && f.count !== (f.allocated ? 1 : 0) + mapped[i]! + (s.steps === undefined ? 0 : inFlightReferences(s, i)));
    return m < 0 ? null : m;
  },
};
