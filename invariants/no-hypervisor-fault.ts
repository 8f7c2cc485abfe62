import { describeFault } from '../model/index.js';
import type { Invariant } from './types.js';

export const noHypervisorFault: Invariant = {
  kind: 'invariant',
  name: 'no-hypervisor-fault',
  description: 'no hypervisor assertion fails (BUG_ON, ASSERT, put_page on 0 or NULL, the hardware domain crashed)',
  check(s) {
    return s.fault === null ? null : describeFault(s.fault);
  },
};
