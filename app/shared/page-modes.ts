/**
 * The app page's overlay mode, named once for the host that opens it and the page that obeys it:
 * `index.html?overlay=1` shows the avatar alone on a transparent page (the Electron desktop overlay;
 * in a browser it is the same page, e.g. for an OBS Browser Source).
 */
export const OVERLAY_PARAM = 'overlay';

/** Whether a page address's query (`location.search`) asks for the overlay mode. */
export function overlayRequested(search: string): boolean {
  return new URLSearchParams(search).get(OVERLAY_PARAM) === '1';
}
