import { BrowserWindow } from 'electron';
import type { PooledRendererHandle, RendererLauncher } from '../../engine/share/renderer-pool';
import { webPreferencesFor } from './web-preferences';

/**
 * Pooled renderers in the desktop app: hidden windows of the app's page in pooled mode, served by
 * the share server (`http://127.0.0.1:<port>/?token=…&remote=1`, so the page finds the remote-talk
 * hub at its own address), with the pooled window preferences (web-preferences.ts). Navigation and
 * permissions follow the app-wide policy (app-security.ts).
 */
export class HiddenWindowRendererLauncher implements RendererLauncher {
  private readonly windows = new Set<BrowserWindow>();

  constructor(private readonly preloadPath: string) {}

  async launch(url: string): Promise<PooledRendererHandle> {
    const window = new BrowserWindow({
      show: false,
      width: 640,
      height: 640,
      webPreferences: webPreferencesFor('pooled', this.preloadPath),
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
