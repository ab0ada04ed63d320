import { BrowserWindow } from 'electron';
import type { PooledRendererHandle, RendererLauncher } from '../../engine/share/renderer-pool';

/**
 * Pooled renderers in the desktop app: hidden windows of the app's own page in pooled mode
 * (`…/index.html?token=…&remote=1`), with the same locked-down preferences as the main window,
 * audio allowed without a gesture (nobody clicks a hidden window) and no throttling while hidden.
 * The page finds the remote-talk hub at its signaling address, so the app must host one (as `serve` does).
 */
export class HiddenWindowRendererLauncher implements RendererLauncher {
  private readonly windows = new Set<BrowserWindow>();

  constructor(private readonly preloadPath: string) {}

  async launch(url: string): Promise<PooledRendererHandle> {
    const window = new BrowserWindow({
      show: false,
      width: 640,
      height: 640,
      webPreferences: {
        preload: this.preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        backgroundThrottling: false,
        autoplayPolicy: 'no-user-gesture-required',
      },
    });
    this.windows.add(window);
    const closed = new Promise<void>((resolve) => {
      window.once('closed', () => {
        this.windows.delete(window);
        resolve();
      });
      // A crashed page leaves an empty window behind: close it so the pool starts a new one.
      window.webContents.once('render-process-gone', () => {
        if (!window.isDestroyed()) window.destroy();
      });
    });
    try {
      await window.loadURL(url);
    } catch (error) {
      if (!window.isDestroyed()) window.destroy();
      throw error;
    }
    return {
      closed,
      close: async () => {
        if (!window.isDestroyed()) window.destroy();
      },
    };
  }

  async dispose(): Promise<void> {
    for (const window of this.windows) if (!window.isDestroyed()) window.destroy();
    this.windows.clear();
  }
}
