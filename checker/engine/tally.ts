// Where random walks keep their tally in shared memory (see WalkOptions.tally): a module of its own so
// that the thread that reads it need not load fast-check, which only the walking thread uses.
export const TALLY_WALKS = 0;
export const TALLY_STEPS = 1;
export const TALLY_DISTINCT = 2;
/** 1 while a failing walk is being shrunk (a stop should let it finish). */
export const TALLY_SHRINKING = 3;
export const TALLY_SLOTS = 4;
