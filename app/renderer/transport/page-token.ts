/** Where this tab keeps the token of each page (`/` and `/view` carry different tokens). */
function storageKey(pathname: string): string {
  return `avatar.pageToken:${pathname}`;
}

let taken: string | null = null;

/**
 * The page's access token: the `?token=` of the address the host printed. The first call takes it
 * out of the address (history.replaceState, every other parameter kept), so it does not sit in the
 * browser's history, in autocomplete or on a shared screen. A reload then has no token in its
 * address, so the token is kept in sessionStorage: it belongs to this tab only (not other tabs, not
 * history) and is gone when the tab closes. '' when the page has none (the Electron window).
 */
export function pageToken(): string {
  if (taken !== null) return taken;
  const url = new URL(window.location.href);
  const key = storageKey(url.pathname);
  const fromAddress = url.searchParams.get('token');
  if (fromAddress !== null) {
    try {
      sessionStorage.setItem(key, fromAddress);
    } catch {
      // Storage disabled: the token still works until the page reloads.
    }
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    taken = fromAddress;
    return taken;
  }
  try {
    taken = sessionStorage.getItem(key) ?? '';
  } catch {
    taken = '';
  }
  return taken;
}
