import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from '../../engine/files/atomic-write';

/** The overlay window's last position and size, next to settings.json in the data folder. */
export const OVERLAY_BOUNDS_FILE_NAME = 'overlay-window.json';

const PIXELS = z.number().int().min(-1_000_000).max(1_000_000);
const OverlayBoundsSchema = z.object({ x: PIXELS, y: PIXELS, width: PIXELS.positive(), height: PIXELS.positive() });

/** A window's place on the screens, in screen pixels (Electron's Rectangle). */
export type OverlayBoundsRecord = z.infer<typeof OverlayBoundsSchema>;

/** What reading found: the saved bounds (null when none or unusable) and, when unusable, why in words. */
export interface LoadedOverlayBounds {
  bounds: OverlayBoundsRecord | null;
  warning?: string;
}

/**
 * `<data dir>/overlay-window.json`. Reading never throws: a missing file is no saved place, an
 * unusable one is no saved place plus a warning (the next save replaces it). Writes are atomic and
 * serialized, so the file holds the last bounds whole.
 */
export class OverlayBoundsFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, OVERLAY_BOUNDS_FILE_NAME);
  }

  async load(): Promise<LoadedOverlayBounds> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { bounds: null };
      return { bounds: null, warning: `The overlay's saved place ${this.path} could not be read (${(error as Error).message}); it opens at the default place.` };
    }
    try {
      const parsed = OverlayBoundsSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { bounds: parsed.data };
    } catch {
      // Not JSON: reported below like any other unusable content.
    }
    return { bounds: null, warning: `The overlay's saved place ${this.path} is unusable; it opens at the default place.` };
  }

  /** Saves the bounds (rounded to whole pixels); a failure rejects with the reason. */
  save(bounds: OverlayBoundsRecord): Promise<void> {
    const record = OverlayBoundsSchema.parse({
      x: Math.round(bounds.x),
      y: Math.round(bounds.y),
      width: Math.round(bounds.width),
      height: Math.round(bounds.height),
    });
    const result = this.writing.then(() => writeFileAtomically(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 }));
    this.writing = result.catch(() => undefined);
    return result;
  }
}
