import { APP_ENTRY_URL, APP_ORIGIN } from './app-protocol';

/**
 * The origin of a page or frame URL (`scheme://host[:port]`), or null for opaque ones (file:,
 * data:, about:blank, javascript:). Node gives non-special schemes such as `app:` the origin
 * "null", so the app scheme is spelled out here the way Chromium serializes a standard scheme.
 */
export function originOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (`${parsed.protocol}//${parsed.host.toLowerCase()}` === APP_ORIGIN) return APP_ORIGIN;
  return parsed.origin === 'null' ? null : parsed.origin;
}

function withoutQuery(url: string): string {
  return url.split(/[?#]/)[0]!;
}

/**
 * The pages this app trusts, in one place: its own page (`app://avatar/index.html`) and, with remote
 * talk, the pooled renderer page the share server serves (`http://127.0.0.1:<port>/?…&remote=1`).
 * IPC, navigation and permission decisions all ask this.
 */
export class TrustedPages {
  private pooledPage: string | null = null;

  /** Remote talk: the pooled renderer page (null: no pooled pages). */
  setPooledPage(url: string | null): void {
    this.pooledPage = url;
  }

  /** The window's page: the app entry on the app origin, any query. */
  isAppPage(url: string): boolean {
    return originOf(url) === APP_ORIGIN && withoutQuery(url) === APP_ENTRY_URL;
  }

  /** A pooled renderer page: the share server's page in pooled mode (`remote=1`). */
  isPooledPage(url: string): boolean {
    if (this.pooledPage === null || withoutQuery(url) !== withoutQuery(this.pooledPage)) return false;
    return new URL(url).searchParams.get('remote') === '1';
  }

  /** Pages that may talk to the engine over IPC. */
  mayUseEngine(url: string): boolean {
    return this.isAppPage(url) || this.isPooledPage(url);
  }

  /** Origins whose frames may use the microphone and be navigated within: the app's and the pooled page's. */
  isTrustedOrigin(url: string): boolean {
    const origin = originOf(url);
    if (origin === null) return false;
    return origin === APP_ORIGIN || (this.pooledPage !== null && origin === originOf(this.pooledPage));
  }
}
