import { lipSyncProbe, type LipSyncProbe } from '../lipsync/lipsync-probe';

/**
 * The renderer's one switch for test-only hooks: a page opened with `?testHooks=1` (as the e2e tests
 * open it) gets them on `window`; any other page has none, and the probes behind them record
 * nothing. The read-only diagnostics snapshot (`window.avatarDiagnostics`,
 * shared/design/measurement.md) is not a hook: every page publishes it.
 */

/** The query parameter that turns the test hooks on (`1`). */
export const TEST_HOOKS_PARAM = 'testHooks';

declare global {
  interface Window {
    /** Lip-sync probe (lipsync/lipsync-probe.ts); present with `?testHooks=1` only. */
    avatarLipSyncProbe?: Pick<LipSyncProbe, 'start' | 'stop' | 'schedules'>;
  }
}

/** Whether the page's address asks for the test hooks. */
export function testHooksRequested(search: string): boolean {
  return new URLSearchParams(search).get(TEST_HOOKS_PARAM) === '1';
}

/** Installs the test hooks when the page's address asks for them; call once at start-up. */
export function installTestHooks(): void {
  if (!testHooksRequested(window.location.search)) return;
  lipSyncProbe.enable();
  window.avatarLipSyncProbe = {
    start: (intervalMs?: number) => lipSyncProbe.start(intervalMs),
    stop: () => lipSyncProbe.stop(),
    schedules: () => lipSyncProbe.schedules(),
  };
}
