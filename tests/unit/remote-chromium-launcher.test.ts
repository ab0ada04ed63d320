import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The headless Chromium that renders for remote talkers (strangers) keeps its host addresses behind
 * mDNS names: the launch arguments never turn Chromium's hiding off. Chromium itself is the edge
 * that cannot run in a unit test, so playwright-core is replaced by a recorder of `launch` calls.
 */

const launched = vi.hoisted(() => ({ options: [] as { args?: string[]; headless?: boolean }[] }));

vi.mock('playwright-core', () => {
  const page = { once: () => undefined, goto: () => Promise.resolve(null) };
  const context = { newPage: () => Promise.resolve(page), close: () => Promise.resolve() };
  const browser = { newContext: () => Promise.resolve(context), once: () => undefined, close: () => Promise.resolve() };
  return {
    chromium: {
      executablePath: () => '/nonexistent/chromium',
      launch: (options: { args?: string[]; headless?: boolean }) => {
        launched.options.push(options);
        return Promise.resolve(browser);
      },
    },
  };
});

const { ChromiumRendererLauncher, POOLED_CHROMIUM_ARGS } = await import('../../app/hosts/serve/remote-chromium-launcher');

/** Chromium features the arguments switch off (`--disable-features=A,B`, possibly given more than once). */
function disabledFeatures(args: readonly string[]): string[] {
  return args.filter((arg) => arg.startsWith('--disable-features=')).flatMap((arg) => arg.slice('--disable-features='.length).split(','));
}

beforeEach(() => {
  launched.options.length = 0;
});

describe('pooled renderer Chromium launch arguments', () => {
  it('leave mDNS hiding of host addresses on, and still allow loopback and audio without a gesture', () => {
    expect(disabledFeatures(POOLED_CHROMIUM_ARGS)).not.toContain('WebRtcHideLocalIpsWithMdns');
    expect(POOLED_CHROMIUM_ARGS.join(' ')).not.toMatch(/mdns/i);
    expect(POOLED_CHROMIUM_ARGS).toEqual(expect.arrayContaining(['--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required']));
  });

  it('are the ones Chromium is really launched with, headless', async () => {
    const launcher = new ChromiumRendererLauncher({ executablePath: process.execPath });
    await launcher.launch('http://127.0.0.1:1/?remote=1');
    expect(launched.options).toHaveLength(1);
    expect(launched.options[0]!.headless).toBe(true);
    expect(launched.options[0]!.args).toEqual(POOLED_CHROMIUM_ARGS);
    expect(disabledFeatures(launched.options[0]!.args ?? [])).not.toContain('WebRtcHideLocalIpsWithMdns');
    await launcher.dispose();
  });
});
