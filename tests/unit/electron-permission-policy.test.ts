import { describe, expect, it } from 'vitest';
import { allowPermissionCheck, allowPermissionRequest } from '../../app/hosts/electron/permission-policy';
import { TrustedPages } from '../../app/hosts/electron/trusted-pages';

/** Permissions by the requesting frame's origin: the microphone and camera for trusted pages, nothing else for anyone. */

const POOLED = 'http://127.0.0.1:41234/?token=app-token&remote=1';
const pages = new TrustedPages();
pages.setPooledPage(POOLED);
const trusted = (url: string): boolean => pages.isTrustedOrigin(url);

describe('permission requests', () => {
  it('grant the microphone to the app page and the pooled page', () => {
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html', securityOrigin: 'app://avatar/', mediaTypes: ['audio'] }, trusted)).toBe(true);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: POOLED, mediaTypes: ['audio'] }, trusted)).toBe(true);
  });

  it('grant the camera to the app page only, and deny a request that names no device', () => {
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html', mediaTypes: ['video'] }, trusted)).toBe(true);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html', mediaTypes: ['audio', 'video'] }, trusted)).toBe(true);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'https://evil.example/frame.html', mediaTypes: ['video'] }, trusted)).toBe(false);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html', mediaTypes: [] }, trusted)).toBe(false);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html' }, trusted)).toBe(false);
  });

  it('decide by the requesting frame, not the window: a foreign frame in a trusted window is denied', () => {
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'https://evil.example/frame.html', mediaTypes: ['audio'] }, trusted)).toBe(false);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'app://avatar/index.html', securityOrigin: 'https://evil.example/', mediaTypes: ['audio'] }, trusted)).toBe(false);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'file:///opt/app/out/renderer/index.html', mediaTypes: ['audio'] }, trusted)).toBe(false);
    expect(allowPermissionRequest({ permission: 'media', requestingUrl: 'http://127.0.0.1:9999/', mediaTypes: ['audio'] }, trusted)).toBe(false);
  });

  it('deny every other permission, even to the app page', () => {
    for (const permission of ['display-capture', 'notifications', 'geolocation', 'midi', 'midiSysex', 'clipboard-read', 'openExternal', 'pointerLock', 'fullscreen', 'fileSystem', 'window-management', 'unknown']) {
      expect(allowPermissionRequest({ permission, requestingUrl: 'app://avatar/index.html', mediaTypes: ['audio'] }, trusted), permission).toBe(false);
    }
  });
});

describe('permission checks', () => {
  it('answer yes for the microphone and camera on trusted frames only', () => {
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'app://avatar/', requestingUrl: 'app://avatar/index.html' }, trusted)).toBe(true);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'http://127.0.0.1:41234/', securityOrigin: 'http://127.0.0.1:41234/' }, trusted)).toBe(true);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'video', requestingOrigin: 'app://avatar/' }, trusted)).toBe(true);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'video', requestingOrigin: 'https://evil.example/' }, trusted)).toBe(false);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'unknown', requestingOrigin: 'app://avatar/' }, trusted)).toBe(false);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'file:///' }, trusted)).toBe(false);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'null' }, trusted)).toBe(false);
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'app://avatar/', requestingUrl: 'https://evil.example/' }, trusted)).toBe(false);
  });

  it('answer no for cross-origin subframes, even inside the app page', () => {
    expect(allowPermissionCheck({ permission: 'media', mediaType: 'audio', requestingOrigin: 'app://avatar/', embeddingOrigin: 'app://avatar/' }, trusted)).toBe(false);
  });

  it('answer no for everything else', () => {
    for (const permission of ['notifications', 'geolocation', 'clipboard-read', 'hid', 'serial', 'usb', 'storage-access', 'fileSystem']) {
      expect(allowPermissionCheck({ permission, requestingOrigin: 'app://avatar/', requestingUrl: 'app://avatar/index.html' }, trusted), permission).toBe(false);
    }
  });
});
