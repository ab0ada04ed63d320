import { BrowserWindow, globalShortcut, screen } from 'electron';
import { OVERLAY_PARAM } from '../../shared/page-modes';
import { APP_ENTRY_URL } from './app-protocol';
import { OverlayBoundsFile } from './overlay-bounds-file';
import { OVERLAY_CLICK_THROUGH_SHORTCUT, OverlayClickThrough, overlayWindowOptions, type OverlayLaunch } from './overlay-window';

/** A moved or resized overlay is saved once it has stayed put this long. */
const SAVE_DELAY_MS = 500;

export interface DesktopOverlayOptions {
  launch: OverlayLaunch;
  preloadPath: string;
  dataDir: string;
  log: (line: string) => void;
}

/**
 * Opens the desktop overlay (`--overlay`): the app page in overlay mode in a frameless, transparent,
 * always-on-top window at its remembered place (clamped onto a display that is there today). The
 * global shortcut toggles click-through while the window is open; its place is saved to the data
 * folder whenever it settles after a move or resize.
 */
export async function openDesktopOverlay(options: DesktopOverlayOptions): Promise<BrowserWindow> {
  const file = new OverlayBoundsFile(options.dataDir);
  const saved = await file.load();
  if (saved.warning) options.log(saved.warning);
  const primary = screen.getPrimaryDisplay();
  const displays = [primary, ...screen.getAllDisplays().filter((display) => display.id !== primary.id)];
  const window = new BrowserWindow(overlayWindowOptions(saved.bounds, displays, options.preloadPath));
  const clickThrough = new OverlayClickThrough(window, options.launch.clickThrough);
  // The page's <title> would replace the title OBS Window Capture finds the overlay by.
  window.on('page-title-updated', (event) => event.preventDefault());

  let saveTimer: NodeJS.Timeout | undefined;
  const save = (): void => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    if (window.isDestroyed()) return;
    file.save(window.getBounds()).catch((error: unknown) => options.log(`The overlay's place could not be saved: ${(error as Error).message}`));
  };
  const saveSoon = (): void => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_DELAY_MS);
  };
  window.on('move', saveSoon);
  window.on('resize', saveSoon);
  window.on('close', () => {
    if (saveTimer) save();
  });

  const registered = globalShortcut.register(OVERLAY_CLICK_THROUGH_SHORTCUT, () => {
    options.log(clickThrough.toggle() ? 'Overlay: click-through on (clicks reach the windows below).' : 'Overlay: click-through off (drag the avatar to move it).');
  });
  if (!registered) options.log(`Overlay: ${OVERLAY_CLICK_THROUGH_SHORTCUT} is taken by another app, so click-through cannot be toggled in this run.`);
  window.on('closed', () => {
    if (registered) globalShortcut.unregister(OVERLAY_CLICK_THROUGH_SHORTCUT);
  });

  void window.loadURL(`${APP_ENTRY_URL}?${OVERLAY_PARAM}=1`);
  return window;
}
