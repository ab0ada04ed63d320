import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import { appDataName } from '../models/model-paths';

export interface DataDirInputs {
  /** An explicit folder (`serve --data-dir`): wins over everything. */
  explicitDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * The app's per-user data folder (settings; the models folder sits inside it by default).
 * Order: explicit folder, env AVATAR_DATA_DIR, then the platform's data folder (XDG_DATA_HOME or
 * ~/.local/share on Linux, Application Support on macOS, %APPDATA% on Windows) — the same base as
 * model-paths.ts, so one folder holds everything the user owns.
 */
export function resolveDataDir(inputs: DataDirInputs = {}): string {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const home = inputs.home ?? homedir();
  const chosen = inputs.explicitDir || env.AVATAR_DATA_DIR;
  if (chosen) return chosen;
  if (platform === 'win32') return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), appDataName);
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', appDataName);
  return posix.join(env.XDG_DATA_HOME || posix.join(home, '.local', 'share'), appDataName);
}
