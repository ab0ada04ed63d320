import type { BrowserWindowConstructorOptions, Rectangle } from 'electron';
import { webPreferencesFor } from './web-preferences';

/**
 * The desktop overlay ("desktop pet"): a frameless, transparent, always-on-top window that shows the
 * avatar alone (the page's `?overlay=1` mode). Everything here is pure so it is tested without the
 * Electron binary: the command-line switch, the window options, and where a saved window lands.
 */

/**
 * The global shortcut that toggles click-through. Three modifiers so it steals no common shortcut
 * (Ctrl+Shift+O alone is the bookmark manager in Chrome and the library in Firefox).
 */
export const OVERLAY_CLICK_THROUGH_SHORTCUT = 'CommandOrControl+Alt+Shift+O';

/** The overlay's size on a first start, in screen pixels (a head-and-shoulders portrait). */
export const OVERLAY_DEFAULT_SIZE = { width: 360, height: 480 } as const;
/** The smallest overlay a restore keeps (a smaller saved size is grown to it). */
export const OVERLAY_MIN_SIZE = { width: 160, height: 200 } as const;
/** Distance from the work area's edge on a first start, in screen pixels. */
const FIRST_START_MARGIN_PX = 24;

/** How the overlay starts, from `--overlay` (movable) or `--overlay=click-through`. */
export interface OverlayLaunch {
  clickThrough: boolean;
}

/** A display as the overlay needs it: the part of the screen windows may cover (no taskbar, no dock). */
export interface OverlayDisplay {
  workArea: Rectangle;
}

/**
 * `--overlay[=click-through]` in the process arguments (Chromium's `--name=value` form), or null
 * without it; arguments after `--` are not switches. Any other value throws, saying what is accepted.
 */
export function parseOverlaySwitch(argv: readonly string[]): OverlayLaunch | null {
  let launch: OverlayLaunch | null = null;
  for (const argument of argv) {
    if (argument === '--') break;
    if (argument === '--overlay') launch = { clickThrough: false };
    else if (argument.startsWith('--overlay=')) {
      const value = argument.slice('--overlay='.length);
      if (value !== 'click-through') throw new Error(`--overlay=${value}: expected --overlay or --overlay=click-through.`);
      launch = { clickThrough: true };
    }
  }
  return launch;
}

/** The area two rectangles share, in square pixels (0 when apart). */
function sharedArea(a: Rectangle, b: Rectangle): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}

/**
 * Where the overlay opens: the saved bounds moved (and shrunk if need be) wholly inside the work
 * area of the display they overlap most, so a window saved on a display that is gone, or partly
 * off-screen, comes back visible; without saved bounds, or when no display overlaps them today, the
 * bottom right of the primary display. `displays[0]` is the primary display.
 */
export function overlayBounds(saved: Rectangle | null, displays: readonly OverlayDisplay[]): Rectangle {
  let area = displays[0]?.workArea ?? { x: 0, y: 0, width: 1280, height: 720 };
  let overlapPx2 = 0;
  if (saved) {
    for (const display of displays) {
      const shared = sharedArea(saved, display.workArea);
      if (shared > overlapPx2) [overlapPx2, area] = [shared, display.workArea];
    }
  }
  const size = saved ?? OVERLAY_DEFAULT_SIZE;
  const width = Math.round(clamp(size.width, OVERLAY_MIN_SIZE.width, area.width));
  const height = Math.round(clamp(size.height, OVERLAY_MIN_SIZE.height, area.height));
  // A saved place on no display today keeps its size and opens where a first start does.
  const x = saved && overlapPx2 > 0 ? saved.x : area.x + area.width - width - FIRST_START_MARGIN_PX;
  const y = saved && overlapPx2 > 0 ? saved.y : area.y + area.height - height - FIRST_START_MARGIN_PX;
  return {
    x: Math.round(clamp(x, area.x, area.x + area.width - width)),
    y: Math.round(clamp(y, area.y, area.y + area.height - height)),
    width,
    height,
  };
}

/**
 * The overlay window's options: frameless, transparent (a fully transparent background colour so
 * nothing is painted before the page), always on top, no shadow, placed by `overlayBounds`, with the
 * same locked-down webPreferences as the main window.
 */
export function overlayWindowOptions(saved: Rectangle | null, displays: readonly OverlayDisplay[], preloadPath: string): BrowserWindowConstructorOptions {
  return {
    ...overlayBounds(saved, displays),
    minWidth: OVERLAY_MIN_SIZE.width,
    minHeight: OVERLAY_MIN_SIZE.height,
    frame: false,
    transparent: true,
    backgroundColor: '#00000000',
    hasShadow: false,
    alwaysOnTop: true,
    resizable: true,
    maximizable: false,
    fullscreenable: false,
    // OBS Window Capture lists windows by title.
    title: 'Local Talking Avatar overlay',
    webPreferences: webPreferencesFor('overlay', preloadPath),
  };
}

/** What click-through needs of a window (BrowserWindow; a fake in tests). */
export interface MouseEventsTarget {
  setIgnoreMouseEvents(ignore: boolean, options?: { forward?: boolean }): void;
}

/**
 * Click-through on and off. On, clicks go to the windows below and mouse moves are still forwarded
 * to the page (Windows, macOS); off, the window takes the mouse again, so it can be dragged.
 */
export class OverlayClickThrough {
  constructor(
    private readonly target: MouseEventsTarget,
    private on: boolean,
  ) {
    this.apply();
  }

  get enabled(): boolean {
    return this.on;
  }

  /** Switches click-through; returns whether it is now on. */
  toggle(): boolean {
    this.on = !this.on;
    this.apply();
    return this.on;
  }

  private apply(): void {
    if (this.on) this.target.setIgnoreMouseEvents(true, { forward: true });
    else this.target.setIgnoreMouseEvents(false);
  }
}
