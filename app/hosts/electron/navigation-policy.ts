import { mayOpenExternally, type ExternalLinkPolicy } from './external-links';
import { originOf, type TrustedPages } from './trusted-pages';

/**
 * What any web contents of the app (the window, pooled hidden windows, anything created later) may
 * do about navigation. Applied centrally on `web-contents-created`; decisions are pure.
 */

/**
 * A navigation or redirect from `fromUrl` to `toUrl` stays on the page's own trusted origin. Before
 * the first page has loaded (`fromUrl` empty or opaque) only a trusted origin is required.
 */
export function mayNavigate(fromUrl: string, toUrl: string, pages: TrustedPages): boolean {
  if (!pages.isTrustedOrigin(toUrl)) return false;
  const from = originOf(fromUrl);
  return from === null || from === originOf(toUrl);
}

/** A new window is never created; an allowed link (external-links.ts) opens in the user's browser instead. */
export function windowOpenDecision(url: string, links: ExternalLinkPolicy): { action: 'deny'; openExternally: boolean } {
  return { action: 'deny', openExternally: mayOpenExternally(url, links) };
}
