/**
 * The path and query of an HTTP request target (RFC 9112 §3.2), or null when the target is not one
 * this host serves. `new URL(req.url, base)` reads `//host:port/x` as another host and throws on a
 * bad port, so an origin-form target is appended to a fixed origin instead; absolute-form targets
 * (`http://h/x`, which proxies send) keep only their path; authority-form (`CONNECT h:443`) and
 * asterisk-form (`OPTIONS *`) are not paths at all.
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  if (!target) return null;
  try {
    if (target.startsWith('/')) return new URL(`http://localhost${target}`);
    if (/^https?:\/\//i.test(target)) {
      const absolute = new URL(target);
      return new URL(`http://localhost${absolute.pathname}${absolute.search}`);
    }
  } catch {
    return null;
  }
  return null;
}

/** decodeURIComponent that answers null for a malformed escape (`%zz`) instead of throwing. */
export function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
