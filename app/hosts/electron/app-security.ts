import { app, protocol, shell, type Session, type WebContents } from 'electron';
import { APP_SCHEME, APP_SCHEME_DEFINITION, appProtocolResponse } from './app-protocol';
import type { ExternalLinkPolicy } from './external-links';
import { mayNavigate, windowOpenDecision } from './navigation-policy';
import { allowPermissionCheck, allowPermissionRequest } from './permission-policy';
import type { TrustedPages } from './trusted-pages';

/**
 * The Electron side of the app's security policy: thin glue that hands Electron's events to the
 * pure decisions in app-protocol.ts, navigation-policy.ts, external-links.ts and permission-policy.ts.
 */

/** Before `ready`: the app scheme's privileges, and the sandbox for every renderer whatever its options. */
export function hardenBeforeReady(): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_DEFINITION]);
  app.enableSandbox();
}

/** Serves `app://avatar/…` from the renderer build (nothing outside it). */
export function serveAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => appProtocolResponse(request.url, rendererDir, request.method));
}

function applyContentsPolicy(contents: WebContents, pages: TrustedPages, links: () => ExternalLinkPolicy): void {
  contents.on('will-navigate', (event) => {
    if (!mayNavigate(contents.getURL(), event.url, pages)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!mayNavigate(contents.getURL(), event.url, pages)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const decision = windowOpenDecision(url, links());
    if (decision.openExternally) void shell.openExternal(url);
    return { action: decision.action };
  });
}

/** One navigation policy for every web contents the app creates: the window, pooled hidden windows, anything later. */
export function installContentsPolicy(pages: TrustedPages, links: () => ExternalLinkPolicy): void {
  app.on('web-contents-created', (_event, contents) => applyContentsPolicy(contents, pages, links));
}

/** Permission requests and checks decided by the requesting frame's origin; devices (HID, serial, USB) denied. */
export function installPermissionHandlers(session: Session, pages: TrustedPages): void {
  const trusted = (urlOrOrigin: string): boolean => pages.isTrustedOrigin(urlOrOrigin);
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const media = 'mediaTypes' in details ? { mediaTypes: details.mediaTypes, securityOrigin: details.securityOrigin } : {};
    callback(allowPermissionRequest({ permission, requestingUrl: details.requestingUrl, ...media }, trusted));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    allowPermissionCheck(
      {
        permission,
        requestingOrigin,
        requestingUrl: details.requestingUrl,
        embeddingOrigin: details.embeddingOrigin,
        securityOrigin: details.securityOrigin,
        mediaType: details.mediaType,
      },
      trusted,
    ),
  );
  session.setDevicePermissionHandler(() => false);
  // No window spellchecks (webPreferences); this also keeps the session from fetching dictionaries.
  session.setSpellCheckerEnabled(false);
}
