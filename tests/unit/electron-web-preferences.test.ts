import { describe, expect, it } from 'vitest';
import { webPreferencesFor, type WindowKind } from '../../app/hosts/electron/web-preferences';

/** Every window the app opens gets the locked-down preferences; only what a window kind needs differs. */

describe('window webPreferences', () => {
  it.each<WindowKind>(['main', 'overlay', 'pooled'])('%s: isolated, sandboxed, no Node, web security, no spellchecker, no webview', (kind) => {
    expect(webPreferencesFor(kind, '/app/out/preload/preload.cjs')).toMatchObject({
      preload: '/app/out/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      backgroundThrottling: false,
    });
  });

  it('lets only the hidden pooled page play audio without a gesture', () => {
    expect(webPreferencesFor('pooled', 'p')).toHaveProperty('autoplayPolicy', 'no-user-gesture-required');
    expect(webPreferencesFor('main', 'p')).not.toHaveProperty('autoplayPolicy');
    expect(webPreferencesFor('overlay', 'p')).not.toHaveProperty('autoplayPolicy');
  });

  it('turns on nothing risky', () => {
    for (const kind of ['main', 'overlay', 'pooled'] as const) {
      const preferences = webPreferencesFor(kind, 'p');
      expect(preferences).not.toHaveProperty('experimentalFeatures');
      expect(preferences).not.toHaveProperty('enableBlinkFeatures');
      expect(preferences).not.toHaveProperty('additionalArguments');
    }
  });
});
