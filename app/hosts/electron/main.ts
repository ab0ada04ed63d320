import { app, BrowserWindow, dialog, ipcMain, session, shell, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import { parseClientMessage } from '../../shared/validate';
import { appRoot, rendererDir } from '../../engine/app-paths';
import { composeAppEngine, type AppEngine } from '../../engine/compose-app-engine';
import { defaultEngineConfig } from '../../engine/create-engine';
import type { Engine, EngineConnection } from '../../engine/engine-api';
import { resolveDataDir } from '../../engine/settings/data-dir';
import { RendererPool } from '../../engine/share/renderer-pool';
import { startDesktopShare, type DesktopShare } from './desktop-share';
import { installProcessGuard } from '../serve/process-guard';
import { IPC_FROM_RENDERER, IPC_SHARE_ENDPOINT, IPC_TO_RENDERER } from '../../shared/ipc-channels';
import { HiddenWindowRendererLauncher } from './renderer-pool-windows';
import { utilityHostLauncher } from './utility-host-launcher';

/**
 * The Electron shell: one window, the IPC bridge to the engine, the share server, and locked-down
 * permissions. `--lan` opts the share server in to LAN viewers (loopback only otherwise);
 * `--remote-talk` opts in to remote conversations, served by one pooled hidden window.
 */

let engine: Engine | undefined;
/** The share server (started with the app; null when it could not listen). */
let share: Promise<DesktopShare | null> = Promise.resolve(null);
/** Remote talk: the pooled renderer page's address (served by the share server) and its hidden windows. */
let pooledPage: string | null = null;
let rendererPool: RendererPool | null = null;
const preloadPath = join(appRoot, 'out', 'preload', 'preload.cjs');
const rendererUrl = pathToFileURL(join(rendererDir, 'index.html')).href;
const connections = new Map<number, EngineConnection>();

function isOwnPage(url: string): boolean {
  return url.split(/[?#]/)[0] === rendererUrl;
}

/** Pages that may talk to the engine: the window, and pooled renderers (remote talk) from the share server. */
function mayUseEngine(url: string): boolean {
  return isOwnPage(url) || (pooledPage !== null && url.split(/[?#]/)[0] === pooledPage.split(/[?#]/)[0] && new URL(url).searchParams.get('remote') === '1');
}

function connectionFor(contents: WebContents): EngineConnection {
  let connection = connections.get(contents.id);
  if (!connection) {
    const send = (message: ServerMessage): void => {
      if (!contents.isDestroyed()) contents.send(IPC_TO_RENDERER, message);
    };
    if (!engine) throw new AppError(ErrorCode.Internal, 'The engine is still starting; try again in a moment.', true);
    connection = engine.connect(send);
    connections.set(contents.id, connection);
    contents.once('destroyed', () => {
      connections.get(contents.id)?.close();
      connections.delete(contents.id);
    });
  }
  return connection;
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    backgroundColor: '#101418',
    title: 'Local Talking Avatar',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // The share keeps rendering while the window is hidden or minimized.
      backgroundThrottling: false,
    },
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  void window.loadURL(rendererUrl);
}

function installPermissionHandlers(): void {
  // Only the microphone (and screen capture for the share), only for our own page.
  const allowed = new Set(['media', 'display-capture']);
  session.defaultSession.setPermissionRequestHandler((contents, permission, callback) => {
    callback(allowed.has(permission) && isOwnPage(contents.getURL()));
  });
  session.defaultSession.setPermissionCheckHandler((_contents, permission, origin) => allowed.has(permission) && origin.startsWith('file://'));
}

ipcMain.on(IPC_FROM_RENDERER, (event: IpcMainEvent, raw: unknown) => {
  if (!event.senderFrame || !mayUseEngine(event.senderFrame.url)) return;
  try {
    connectionFor(event.sender).handle(parseClientMessage(raw));
  } catch (error) {
    const appError = AppError.from(error);
    event.sender.send(IPC_TO_RENDERER, { type: 'error', ...appError.toShape() } satisfies ServerMessage);
  }
});

ipcMain.handle(IPC_SHARE_ENDPOINT, async (event: IpcMainInvokeEvent) => {
  if (!event.senderFrame || !isOwnPage(event.senderFrame.url)) return null;
  return (await share)?.endpoint ?? null;
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

// An error escaping a handler is logged and the app keeps running; one that corrupts the engine quits cleanly.
installProcessGuard({
  log: (line) => console.error(line),
  onFatal: (reason) => {
    dialog.showErrorBox('Local Talking Avatar must close', `The app stopped because ${reason}.`);
    app.quit();
  },
});

app.whenReady().then(async () => {
  installPermissionHandlers();
  share = startDesktopShare({ rendererDir, lan: app.commandLine.hasSwitch('lan'), remoteTalk: app.commandLine.hasSwitch('remote-talk') }).then(
    (started) => {
      console.log(`Share viewer (OBS Browser Source): ${started.endpoint.viewUrl}`);
      if (started.handle.talkUrl) console.log(`Remote talk (the talk token): ${started.handle.talkUrl}`);
      return started;
    },
    (error: unknown) => {
      console.error(`The share server could not start: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    },
  );
  let composed: AppEngine;
  try {
    composed = await composeAppEngine({
      profile: 'auto',
      dataDir: resolveDataDir(),
      base: { ...defaultEngineConfig(), launcher: utilityHostLauncher },
    });
  } catch (error) {
    dialog.showErrorBox('Local Talking Avatar cannot start', error instanceof Error ? error.message : String(error));
    app.exit(1);
    return;
  }
  // Settings warnings also reach the window (settings.current says them); the log keeps them too.
  for (const warning of composed.warnings) console.warn(warning);
  for (const line of composed.summary) console.log(line);
  engine = composed.engine;
  createWindow();
  const started = await share;
  if (started?.pooledRendererUrl) {
    pooledPage = started.pooledRendererUrl;
    rendererPool = new RendererPool(new HiddenWindowRendererLauncher(preloadPath), {
      size: 1,
      url: started.pooledRendererUrl,
      log: (line) => console.warn(`Remote talk: ${line}`),
    });
    rendererPool.start().catch((error: unknown) => console.error(`Remote talk: the renderer failed to start: ${error instanceof Error ? error.message : String(error)}`));
  }
  await engine.start();
});

app.on('window-all-closed', () => app.quit());

let shuttingDown = false;
app.on('before-quit', (event) => {
  if (shuttingDown) return;
  shuttingDown = true;
  event.preventDefault();
  Promise.allSettled([rendererPool?.close(), share.then((started) => started?.close()), engine?.shutdown()]).finally(() => app.exit(0));
});
