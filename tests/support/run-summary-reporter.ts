import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** Where `scripts/test-all.mjs` asks this reporter to write (`RUN_SUMMARY_FILE`). */
const outputFile = process.env.RUN_SUMMARY_FILE;
/** Enough of a message or stack to name the cause without flooding the run's last lines. */
const MAX_TEXT_CHARS = 1_500;

const clip = (text: string | undefined): string => (text ?? '').slice(0, MAX_TEXT_CHARS);

/**
 * Writes the failed tests and the errors vitest caught outside any test (an unhandled rejection, a
 * worker that crashed after its tests) to a JSON file, so `npm test` can repeat them in its last
 * lines: a CI log that is cut keeps only its end, and vitest's JSON report has no unhandled errors.
 */
export default class RunSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    if (!outputFile) return;
    const failedTests: Array<{ file: string; name: string; error: string }> = [];
    for (const module of testModules) {
      const file = relative(process.cwd(), module.moduleId);
      for (const error of module.errors()) failedTests.push({ file, name: '(the file itself)', error: clip(error.stack || error.message) });
      for (const test of module.children.allTests('failed')) {
        const error = test.result().errors?.[0];
        failedTests.push({ file, name: test.fullName, error: clip(error?.stack || error?.message) });
      }
    }
    // vitest names the test file (and test) an unhandled error came from, when it knows.
    const errors = unhandledErrors.map((error) => {
      const origin = [error.VITEST_TEST_PATH, error.VITEST_TEST_NAME].filter((part) => typeof part === 'string' && part).join(' > ');
      return { name: `${error.name ?? 'Error'}${origin ? ` from ${origin}` : ''}`, error: clip(error.stack || error.message) };
    });
    mkdirSync(dirname(outputFile), { recursive: true });
    writeFileSync(outputFile, `${JSON.stringify({ failedTests, unhandledErrors: errors }, null, 2)}\n`);
  }
}
