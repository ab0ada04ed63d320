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
  rmSync(report, { force: true });
  const ok = step(`vitest ${project}`, bin('vitest'), ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
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

if (failures.length) console.log(`\nFailed: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
