/**
 * Which links the app hands to the user's browser (`shell.openExternal`). A compromised page must
 * not be able to launch other programs through a URL, so everything not listed here stays closed:
 * file:, javascript:, data:, custom schemes, plain http to other machines, credentials in the URL.
 */

/** Documentation sites the app may open (https only, exact host names). */
export const DOCUMENTATION_HOSTS: readonly string[] = ['obsproject.com', 'github.com'];

export interface ExternalLinkPolicy {
  /** https hosts that may be opened. */
  httpsHosts: readonly string[];
  /** http origins on this machine that may be opened: the share server's (viewer and talk links). */
  loopbackOrigins: readonly string[];
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when `url` may be opened in the user's browser. */
export function mayOpenExternally(url: string, policy: ExternalLinkPolicy): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  if (parsed.protocol === 'https:') return parsed.port === '' && policy.httpsHosts.includes(parsed.hostname);
  if (parsed.protocol === 'http:') return LOOPBACK_HOSTNAMES.has(parsed.hostname) && policy.loopbackOrigins.includes(parsed.origin);
  return false;
}
