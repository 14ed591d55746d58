#!/usr/bin/env node
// test_browser.mjs - runs the browser tests (*.test.mjs, or those named on the
// command line) with node's test runner, one file at a time, shows each
// result, and ends with a Check-style summary line so tests/run.sh counts
// them in make check's "N passed, N failed".
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const files = process.argv.length > 2
  ? process.argv.slice(2).map((f) => path.resolve(f))
  : readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => path.join(here, f));

let checks = 0;
let failures = 0;
const stream = run({ files, concurrency: 1 });
stream.on('test:pass', (ev) => {
  if (ev.details.type !== 'suite') checks++;
});
stream.on('test:fail', (ev) => {
  if (ev.details.type === 'suite' && !ev.details.error?.failureType?.includes('hook')) return;
  checks++;
  failures++;
});
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => {
  if (checks === 0) failures = 1; // nothing ran: that is a failure, never a pass
  const pct = checks ? Math.floor((100 * (checks - failures)) / checks) : 0;
  console.log(`${pct}%: Checks: ${Math.max(checks, 1)}, Failures: ${failures}, Errors: 0`);
  process.exitCode = failures ? 1 : 0;
});
