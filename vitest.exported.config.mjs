// The config `checker trace export-test` prints for running a generated test: vitest's defaults, so
// that the test is found in whatever folder it was written to (the project's own vitest.config.ts
// looks under test/ only), and the package's name resolved to this checker wherever the test is.
import { fileURLToPath } from 'node:url';

export default {
  resolve: { alias: { 'xen-foreign-checker': fileURLToPath(new URL('./dist/checker/public.js', import.meta.url)) } },
};
