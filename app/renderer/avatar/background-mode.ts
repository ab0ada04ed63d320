import { BackgroundModeSchema, type BackgroundMode } from '../../shared/settings.contract';
import { overlayRequested } from '../../shared/page-modes';
import { BACKGROUND_EVENT } from '../state/settings-store';

/**
 * What the stage shows behind the avatar: the normal backdrop, nothing (transparent, for
 * compositing a transparent window or browser source), or a chroma-key green for video tools.
 * `?background=normal|transparent|chroma` selects it for a page load; the settings store's
 * `avatar-background` event and `setBackgroundMode` change it live. The mode is mirrored as
 * `data-background` on <html> for the page CSS. The overlay page (`?overlay=1`) is always transparent.
 */
/** The chroma-key colour: pure green, sRGB #00FF00, also drawn into the WebGL canvas itself. */
export const CHROMA_KEY_COLOR = '#00FF00';

const listeners = new Set<(mode: BackgroundMode) => void>();

function isBackgroundMode(value: unknown): value is BackgroundMode {
  return BackgroundModeSchema.safeParse(value).success;
}

const overlayPage = overlayRequested(window.location.search);

function fromUrl(): BackgroundMode | null {
  if (overlayPage) return 'transparent';
  const requested = new URLSearchParams(window.location.search).get('background');
  return isBackgroundMode(requested) ? requested : null;
}

const fromPage = document.documentElement.dataset.background;
let current: BackgroundMode = fromUrl() ?? (isBackgroundMode(fromPage) ? fromPage : 'normal');
document.documentElement.dataset.background = current;

window.addEventListener(BACKGROUND_EVENT, (event) => {
  const mode = (event as CustomEvent<unknown>).detail;
  // The saved setting does not reach the overlay: it stays transparent (and says so again on <html>).
  if (overlayPage) setBackgroundMode('transparent');
  else if (isBackgroundMode(mode)) setBackgroundMode(mode);
});

/** The URL's choice wins over the saved setting for this page load (applied again once the page is up). */
export function applyBackgroundFromUrl(): void {
  const mode = fromUrl();
  if (mode) setBackgroundMode(mode);
}

export function getBackgroundMode(): BackgroundMode {
  return current;
}

/** Switches the background now (page backdrop and canvas clear colour). Unknown modes are refused. */
export function setBackgroundMode(mode: BackgroundMode): void {
  if (!isBackgroundMode(mode)) throw new Error(`Unknown background mode "${String(mode)}" (expected ${BackgroundModeSchema.options.join(', ')}).`);
  current = mode;
  document.documentElement.dataset.background = mode;
  for (const listener of listeners) listener(mode);
}

/** Calls `listener` on every change; returns the unsubscribe function. */
export function onBackgroundModeChange(listener: (mode: BackgroundMode) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
