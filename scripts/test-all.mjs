import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm test`: fixtures → typecheck → lint → build → unit/integration tests → Chromium e2e tests.
 * Every step runs even when an earlier one failed, so one run shows every problem. Ends with the
 * plain line `N passed, N failed, N skipped` (typecheck, lint and build count as one check each).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
/** What each vitest project's summary reporter wrote: failed tests and errors outside any test. */
const problems = [];

function step(label, command, args) {
  console.log(`\n=== ${label} ===`);
  const startedMs = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  const ok = result.status === 0;
  console.log(`--- ${label}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  return ok;
}

function check(label, command, args) {
  if (step(label, command, args)) passed++;
  else {
    failed++;
    failures.push(label);
  }
}

function vitestProject(project) {
  const report = join(resultsDir, `vitest-${project}.json`);
  const summary = join(resultsDir, `vitest-${project}-summary.json`);
  rmSync(report, { force: true });
  rmSync(summary, { force: true });
  process.env.RUN_SUMMARY_FILE = summary;
  const ok = step(`vitest ${project}`, bin('vitest'), [
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    '--reporter=./tests/support/run-summary-reporter.ts',
  ]);
  delete process.env.RUN_SUMMARY_FILE;
  try {
    const { failedTests, unhandledErrors } = JSON.parse(readFileSync(summary, 'utf8'));
    for (const test of failedTests) problems.push(`[${project}] FAILED ${test.file} > ${test.name}\n${test.error}`);
    for (const error of unhandledErrors) problems.push(`[${project}] ERROR OUTSIDE ANY TEST (${error.name})\n${error.error}`);
  } catch {
    if (!ok) problems.push(`[${project}] vitest exited without its summary (${summary})`);
  }
  let counts;
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    counts = { passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + json.numTodoTests };
    // A suite that failed to load counts as a failure even with no test inside.
    const brokenSuites = json.testResults.filter((suite) => suite.status === 'failed' && suite.assertionResults.length === 0).length;
    counts.failed += brokenSuites;
  } catch {
    counts = { passed: 0, failed: 1, skipped: 0 };
  }
  if (!ok && counts.failed === 0) counts.failed = 1;
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
  if (counts.failed > 0) failures.push(`vitest ${project}`);
}

check('fixtures', bin('tsx'), ['scripts/fixtures.ts']);
check('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
check('lint', bin('eslint'), ['.', '--max-warnings=0']);
check('build', process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);
vitestProject('unit');
vitestProject('e2e');

// Repeated last, so a log that keeps only its end still names what failed and why.
for (const problem of problems) console.log(`\n${problem}`);
if (failures.length) console.log(`\nFailed: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
