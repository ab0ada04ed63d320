import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OVERLAY_BOUNDS_FILE_NAME, OverlayBoundsFile } from '../../app/hosts/electron/overlay-bounds-file';
import {
  OVERLAY_DEFAULT_SIZE,
  OVERLAY_MIN_SIZE,
  OverlayClickThrough,
  overlayBounds,
  overlayWindowOptions,
  parseOverlaySwitch,
  type OverlayDisplay,
} from '../../app/hosts/electron/overlay-window';
import { webPreferencesFor } from '../../app/hosts/electron/web-preferences';

/** The desktop overlay's switch, window options and remembered place, without the Electron binary. */

/** A 1920×1080 primary display with a 40 px taskbar at the bottom, and a 1280×1024 display to its right. */
const PRIMARY: OverlayDisplay = { workArea: { x: 0, y: 0, width: 1920, height: 1040 } };
const RIGHT: OverlayDisplay = { workArea: { x: 1920, y: 0, width: 1280, height: 1024 } };

describe('--overlay switch', () => {
  it('is absent, movable, or click-through', () => {
    expect(parseOverlaySwitch(['/opt/electron', '/opt/app'])).toBeNull();
    expect(parseOverlaySwitch(['/opt/electron', '/opt/app', '--overlay'])).toEqual({ clickThrough: false });
    expect(parseOverlaySwitch(['/opt/electron', '/opt/app', '--lan', '--overlay=click-through'])).toEqual({ clickThrough: true });
  });

  it('ignores look-alikes and arguments after --', () => {
    expect(parseOverlaySwitch(['--overlays', '-overlay', 'overlay'])).toBeNull();
    expect(parseOverlaySwitch(['--', '--overlay'])).toBeNull();
  });

  it('refuses an unknown value, saying what it accepts', () => {
    expect(() => parseOverlaySwitch(['--overlay=yes'])).toThrow('--overlay=yes: expected --overlay or --overlay=click-through.');
  });
});

describe('overlay placement', () => {
  it('opens at the bottom right of the primary display on a first start', () => {
    expect(overlayBounds(null, [PRIMARY, RIGHT])).toEqual({
      x: 1920 - OVERLAY_DEFAULT_SIZE.width - 24,
      y: 1040 - OVERLAY_DEFAULT_SIZE.height - 24,
      ...OVERLAY_DEFAULT_SIZE,
    });
  });

  it('comes back where it was saved when that is visible, on any display', () => {
    expect(overlayBounds({ x: 100, y: 200, width: 400, height: 500 }, [PRIMARY, RIGHT])).toEqual({ x: 100, y: 200, width: 400, height: 500 });
    expect(overlayBounds({ x: 2500, y: 300, width: 400, height: 500 }, [PRIMARY, RIGHT])).toEqual({ x: 2500, y: 300, width: 400, height: 500 });
  });

  it('is pulled wholly onto the display it overlaps most when saved partly off-screen', () => {
    // Hanging below the taskbar and off the left edge.
    expect(overlayBounds({ x: -50, y: 900, width: 400, height: 500 }, [PRIMARY, RIGHT])).toEqual({ x: 0, y: 540, width: 400, height: 500 });
    // Straddling the two displays, mostly on the right one.
    expect(overlayBounds({ x: 1820, y: 100, width: 400, height: 500 }, [PRIMARY, RIGHT])).toEqual({ x: 1920, y: 100, width: 400, height: 500 });
  });

  it('returns to the primary display when the display it was saved on is gone', () => {
    const bounds = overlayBounds({ x: 2500, y: 300, width: 400, height: 500 }, [PRIMARY]);
    expect(bounds).toEqual({ x: 1920 - 400 - 24, y: 1040 - 500 - 24, width: 400, height: 500 });
  });

  it('fits the work area and keeps a usable minimum size', () => {
    expect(overlayBounds({ x: 10, y: 10, width: 5000, height: 3000 }, [PRIMARY])).toEqual({ x: 0, y: 0, width: 1920, height: 1040 });
    expect(overlayBounds({ x: 10, y: 10, width: 20, height: 20 }, [PRIMARY])).toEqual({ x: 10, y: 10, ...OVERLAY_MIN_SIZE });
  });

  it('has a place even when no display is reported', () => {
    const bounds = overlayBounds(null, []);
    expect(bounds.width).toBe(OVERLAY_DEFAULT_SIZE.width);
    expect(bounds.x).toBeGreaterThanOrEqual(0);
  });
});

describe('overlay window options', () => {
  it('is frameless, transparent, always on top, placed, and as locked down as the main window', () => {
    const options = overlayWindowOptions({ x: 100, y: 200, width: 400, height: 500 }, [PRIMARY], '/app/out/preload/preload.cjs');
    expect(options).toMatchObject({ x: 100, y: 200, width: 400, height: 500, frame: false, transparent: true, alwaysOnTop: true, hasShadow: false });
    // Fully transparent: nothing is painted behind the page.
    expect(options.backgroundColor).toBe('#00000000');
    expect(options.webPreferences).toEqual(webPreferencesFor('main', '/app/out/preload/preload.cjs'));
    expect(options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
  });
});

describe('overlay click-through', () => {
  it('starts as launched and toggles, forwarding mouse moves while clicks go through', () => {
    const calls: unknown[][] = [];
    const clickThrough = new OverlayClickThrough({ setIgnoreMouseEvents: (...args: unknown[]) => void calls.push(args) }, true);
    expect(clickThrough.enabled).toBe(true);
    expect(clickThrough.toggle()).toBe(false);
    expect(clickThrough.toggle()).toBe(true);
    expect(calls).toEqual([[true, { forward: true }], [false], [true, { forward: true }]]);
  });

  it('starts movable (taking the mouse) without click-through', () => {
    const calls: unknown[][] = [];
    new OverlayClickThrough({ setIgnoreMouseEvents: (...args: unknown[]) => void calls.push(args) }, false);
    expect(calls).toEqual([[false]]);
  });
});

describe('overlay bounds file', () => {
  const dirs: string[] = [];
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'overlay-bounds-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('remembers the last bounds next to settings.json, in whole pixels', async () => {
    const dir = dataDir();
    const file = new OverlayBoundsFile(dir);
    expect(await file.load()).toEqual({ bounds: null });
    await file.save({ x: 10.4, y: -20, width: 360, height: 480 });
    await file.save({ x: 30, y: 40, width: 300.6, height: 400 });
    expect(JSON.parse(readFileSync(join(dir, OVERLAY_BOUNDS_FILE_NAME), 'utf8'))).toEqual({ x: 30, y: 40, width: 301, height: 400 });
    expect(await new OverlayBoundsFile(dir).load()).toEqual({ bounds: { x: 30, y: 40, width: 301, height: 400 } });
  });

  it.each(['{ not json', '{"x":1,"y":2,"width":0,"height":5}', '{"x":"1","y":2,"width":3,"height":5}'])('opens at the default place, saying so, from %s', async (content) => {
    const dir = dataDir();
    writeFileSync(join(dir, OVERLAY_BOUNDS_FILE_NAME), content);
    const loaded = await new OverlayBoundsFile(dir).load();
    expect(loaded.bounds).toBeNull();
    expect(loaded.warning).toMatch(/unusable; it opens at the default place/);
  });
});
