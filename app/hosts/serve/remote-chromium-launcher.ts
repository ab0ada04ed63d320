import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { PooledRendererHandle, RendererLauncher } from '../../engine/share/renderer-pool';

/**
 * Headless Chromium flags for a pooled renderer: SwiftShader WebGL where there is no GPU, audio
 * without a user gesture, no throttling of a page nobody looks at, and loopback in ICE (a talker on
 * this machine). Chromium's mDNS hiding of host addresses stays on: talkers are strangers, and this
 * machine's LAN addresses are none of their business. The pair still forms: a talker's page holds
 * microphone permission, so it offers its real host addresses, and the renderer's checks to them
 * reach it (STUN/TURN from --ice-servers across networks).
 */
export const POOLED_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's and most distributions' Chromium; otherwise Playwright's own download, if any. */
const SYSTEM_CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export interface ChromiumLauncherOptions {
  /** A Chromium or Chrome binary; found on the usual paths when absent. */
  executablePath?: string;
  /** Page size (the share scales the canvas to its preset). */
  viewport?: { width: number; height: number };
}

/**
 * Pooled renderers as pages of one headless Chromium (playwright-core), each in its own browser
 * context so storage and settings are not shared between remote conversations.
 */
export class ChromiumRendererLauncher implements RendererLauncher {
  private browser: Promise<Browser> | null = null;

  constructor(private readonly options: ChromiumLauncherOptions = {}) {}

  async launch(url: string): Promise<PooledRendererHandle> {
    const browser = await this.openBrowser();
    const context = await browser.newContext({ viewport: this.options.viewport ?? { width: 640, height: 640 } });
    const page = await context.newPage();
    const closed = new Promise<void>((resolve) => {
      page.once('close', () => resolve());
      page.once('crash', () => resolve());
      browser.once('disconnected', () => resolve());
    });
    try {
      await page.goto(url, { waitUntil: 'load' });
    } catch (error) {
      await context.close().catch(() => undefined);
      throw error;
    }
    return {
      closed,
      close: async () => {
        await context.close().catch(() => undefined);
      },
    };
  }

  async dispose(): Promise<void> {
    const browser = this.browser;
    this.browser = null;
    if (browser) await (await browser.catch(() => null))?.close();
  }

  private openBrowser(): Promise<Browser> {
    if (!this.browser) {
      this.browser = launchChromium(this.options.executablePath);
      // A browser that crashed is started again by the next launch.
      void this.browser.then(
        (browser) => browser.once('disconnected', () => (this.browser = null)),
        () => (this.browser = null),
      );
    }
    return this.browser;
  }
}

async function launchChromium(explicitPath: string | undefined): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const executablePath = explicitPath ?? SYSTEM_CHROMIUM_PATHS.find((path) => existsSync(path));
  if (explicitPath && !existsSync(explicitPath)) {
    throw new AppError(ErrorCode.Internal, `No Chromium at ${explicitPath} (--chromium-path).`, false);
  }
  if (!executablePath && !existsSync(chromium.executablePath())) {
    throw new AppError(
      ErrorCode.Internal,
      'Remote talk needs Chromium for its avatar renderers: install it (Debian: apt install chromium) or pass --chromium-path.',
      false,
    );
  }
  return chromium.launch({ executablePath, headless: true, args: POOLED_CHROMIUM_ARGS });
}
