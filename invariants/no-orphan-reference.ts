import { domainName } from '../model/index.js';
import { foreignHolders, formatHolders, frameCanBeFreed, freeableDeadDomains } from './holders.js';
import type { Invariant } from './types.js';

export const noOrphanReference: Invariant = {
  kind: 'invariant',
  name: 'no-orphan-reference',
  description: 'every frame a dead domain owns can still be freed by some holder (no zombie kept forever)',
  check(s, c) {
    if (!s.domains.some((d) => d.life === 'dead')) return null;
    const freeable = freeableDeadDomains(s, c);
    for (let m = 0; m < s.frames.length; m++) {
      const f = s.frames[m]!;
      if (typeof f.owner !== 'number' || s.domains[f.owner]!.life !== 'dead') continue;
      if (frameCanBeFreed(s, m, freeable, c)) continue;
      const holders = foreignHolders(s, m);
      const by = holders.length === 0
        ? 'held by nothing'
        : `held only by ${formatHolders(c.u, holders)} of domains that will never drop it`;
      return `frame ${m} of dead ${domainName(c.u, f.owner)} can never be freed: count ${f.count}, ${by}; ${domainName(c.u, f.owner)} stays a zombie forever`;
    }
    return null;
  },
  subjectFrame(s, c) {
    const freeable = freeableDeadDomains(s, c);
    const m = s.frames.findIndex(
      (f, i) => typeof f.owner === 'number' && s.domains[f.owner]!.life === 'dead' && !frameCanBeFreed(s, i, freeable, c),
    );
    return m < 0 ? null : m;
  },
};
