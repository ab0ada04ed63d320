import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak-session';
import { chromiumMissingReason } from '../support/serve-process';

/**
 * The soak, short: three minutes of spoken conversation through `serve` in Chromium (the
 * development models when present, else the scripted engines) with barge-ins, page reloads and
 * share viewers joining and leaving — the same code as `npm run bench -- soak`. Nothing may go
 * wrong and no worker may need replacing. Memory growth is printed, not asserted: three minutes
 * are too few to tell a leak from a warming cache (the bench's longer runs say that).
 */

const missing = chromiumMissingReason();

describe.skipIf(missing !== null)(`soak, 3 minutes${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  it('holds spoken turns, barge-ins, reloads and viewers without an error or a worker restart', { timeout: 420_000 }, async () => {
    const result = await runSoak({ minutes: 3, sampleEverySec: 10, warmUpSec: 40, reloadEverySec: 60, viewerEverySec: 50, bargeInEverySec: 45 });
    console.log(`soak-short (${result.profile}): ${JSON.stringify(result.metrics)}`);
    expect(result.errors).toEqual([]);
    expect(result.metrics.worker_restarts).toBe(0);
    expect(result.metrics.turns).toBeGreaterThanOrEqual(3);
    expect(result.metrics.reloads).toBeGreaterThanOrEqual(1);
    expect(result.metrics.viewer_joins).toBeGreaterThanOrEqual(1);
    expect(result.metrics.barge_in_attempts).toBeGreaterThanOrEqual(1);
    // Every process was sampled throughout: the growth figures exist (their size is the bench's business).
    for (const metric of ['engine_rss_growth_mb_per_hour', 'engine_heap_growth_mb_per_hour', 'page_heap_growth_mb_per_hour', 'fd_growth_per_hour']) {
      expect(Number.isFinite(result.metrics[metric]), metric).toBe(true);
    }
  });
});
