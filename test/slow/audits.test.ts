// The audits whose fast-suite runs are samples, in full (npm run test:slow sets CHECKER_SLOW_SUITE):
// 1, 2 and 4 workers on every configuration of test/workers.test.ts, and the symmetry audit on every
// version × backend and mutant; the model's laws over more random sequences, one level deeper.
process.env.CHECKER_SLOW_SUITE = '1';
await import('../workers.test.js');
await import('../symmetry.test.js');
await import('../model-properties.test.js');
