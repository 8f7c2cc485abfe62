// The config `checker trace export-test` prints for running a generated test: vitest's defaults, so
// that the test is found in whatever folder it was written to (the project's own vitest.config.ts
// looks under test/ only).
export default {};
