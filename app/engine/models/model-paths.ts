import { homedir } from 'node:os';
import { basename, dirname, join, posix, win32 } from 'node:path';
import { appRoot } from '../app-paths';

/** Folder name under the platform's per-user data folder. */
export const appDataName = 'local-talking-avatar';

export interface ModelsDirInputs {
  /** An explicit folder (CLI `--dir`, or the caller's own choice): wins over everything. */
  explicitDir?: string | undefined;
  /** The user's setting, used when neither an explicit folder nor AVATAR_MODELS_DIR is given. */
  settingDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * Where downloaded models live: outside the app bundle, so updates and reinstalls keep them.
 * Order: explicit folder, env AVATAR_MODELS_DIR, the setting, then the platform's data folder
 * (XDG_DATA_HOME or ~/.local/share on Linux, Application Support on macOS, %APPDATA% on Windows).
 */
export function resolveModelsDir(inputs: ModelsDirInputs = {}): string {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const home = inputs.home ?? homedir();
  const chosen = inputs.explicitDir || env.AVATAR_MODELS_DIR || inputs.settingDir;
  if (chosen) return chosen;
  if (platform === 'win32') {
    const appData = env.APPDATA || win32.join(home, 'AppData', 'Roaming');
    return win32.join(appData, appDataName, 'models');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', appDataName, 'models');
  const dataHome = env.XDG_DATA_HOME || posix.join(home, '.local', 'share');
  return posix.join(dataHome, appDataName, 'models');
}

/**
 * Where the files electron-builder ships as `extraResources` are: in a package the app root is
 * `resources/app.asar` and they sit beside it (`resources/models/catalog.json`); from the project
 * they are in its `resources/` folder.
 */
export function shippedResourcesDir(root: string = appRoot): string {
  return basename(root).endsWith('.asar') ? dirname(root) : join(root, 'resources');
}

/** The catalog shipped with the app, unless `--catalog` or env AVATAR_MODEL_CATALOG names another. */
export function resolveCatalogPath(explicitPath?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicitPath || env.AVATAR_MODEL_CATALOG || join(shippedResourcesDir(), 'models', 'catalog.json');
}
