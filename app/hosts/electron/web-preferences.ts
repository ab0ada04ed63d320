import type { WebPreferences } from 'electron';

/** The app's windows: the visible main window, the desktop overlay, and the hidden pooled renderers of remote talk. */
export type WindowKind = 'main' | 'overlay' | 'pooled';

/**
 * The webPreferences of every window the app opens, from one place: isolated, sandboxed, no Node,
 * web security on, no spellchecker (it would download dictionaries), no webview tag. The share
 * keeps rendering while a window is hidden or minimized; pooled pages also play audio without a
 * gesture (nobody clicks a hidden window).
 */
export function webPreferencesFor(kind: WindowKind, preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    navigateOnDragDrop: false,
    backgroundThrottling: false,
    ...(kind === 'pooled' ? { autoplayPolicy: 'no-user-gesture-required' as const } : {}),
  };
}
