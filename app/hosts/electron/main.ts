import { app, BrowserWindow, dialog, ipcMain, session, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import { parseClientMessage } from '../../shared/validate';
import { parseVmcTarget } from '../../shared/vmc.contract';
import { appRoot, rendererDir } from '../../engine/app-paths';
import { composeAppEngine, type AppEngine } from '../../engine/compose-app-engine';
import { defaultEngineConfig } from '../../engine/create-engine';
import type { Engine, EngineConnection } from '../../engine/engine-api';
import { resolveDataDir } from '../../engine/settings/data-dir';
import { RendererPool } from '../../engine/share/renderer-pool';
import { openDesktopOverlay } from './desktop-overlay';
import { startDesktopShare, type DesktopShare } from './desktop-share';
import { installProcessGuard } from '../serve/process-guard';
import { IPC_FROM_RENDERER, IPC_SHARE_ENDPOINT, IPC_TO_RENDERER } from '../../shared/ipc-channels';
import { APP_ENTRY_URL } from './app-protocol';
import { hardenBeforeReady, installContentsPolicy, installPermissionHandlers, serveAppProtocol } from './app-security';
import { DOCUMENTATION_HOSTS, type ExternalLinkPolicy } from './external-links';
import { OnDemandService } from './on-demand-service';
import { parseOverlaySwitch, type OverlayLaunch } from './overlay-window';
import { HiddenWindowRendererLauncher } from './renderer-pool-windows';
import { TrustedPages } from './trusted-pages';
import { utilityHostLauncher } from './utility-host-launcher';
import { webPreferencesFor } from './web-preferences';

/**
 * The Electron shell: one window on `app://avatar`, the IPC bridge to the engine, the share server
 * (started when the window first asks for it), and locked-down navigation and permissions.
 * `--lan` opts the share server in to LAN viewers (loopback only otherwise); `--remote-talk` opts in
 * to remote conversations, served by one pooled hidden window (the share server then starts at launch).
 * `--vmc-out host:port` turns VMC output on for the run. `--overlay[=click-through]` opens the
 * desktop overlay (the avatar alone in a transparent always-on-top window) instead of the app window.
 */

// One app per user; a second launch brings the first window forward. This also stops a child that
// re-executes the app binary (with the RunAsNode fuse off, child_process.fork does) from opening a second app.
if (!app.requestSingleInstanceLock()) app.exit(0);
hardenBeforeReady();

let engine: Engine | undefined;
let mainWindow: BrowserWindow | null = null;
let rendererPool: RendererPool | null = null;
const preloadPath = join(appRoot, 'out', 'preload', 'preload.cjs');
const connections = new Map<number, EngineConnection>();
const pages = new TrustedPages();
const remoteTalk = app.commandLine.hasSwitch('remote-talk');
/** The share server: started by the window's first `shareEndpoint()` (or at launch for remote talk), closed at quit. */
const share = new OnDemandService<DesktopShare>(async () => {
  try {
    const started = await startDesktopShare({ rendererDir, lan: app.commandLine.hasSwitch('lan'), remoteTalk });
    console.log(`Share viewer (OBS Browser Source): ${started.endpoint.viewUrl}`);
    if (started.handle.talkUrl) console.log(`Remote talk (the talk token): ${started.handle.talkUrl}`);
    return started;
  } catch (error) {
    console.error(`The share server could not start: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
});

/** Links the window may open in the browser: documentation, and the share server's viewer and talk pages. */
function externalLinks(): ExternalLinkPolicy {
  const running = share.current;
  return { httpsHosts: DOCUMENTATION_HOSTS, loopbackOrigins: running ? [new URL(running.endpoint.viewUrl).origin] : [] };
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

/** `--vmc-out=host:port`: VMC output for this run; a malformed target stops the start, saying why. */
function vmcOutSwitch(): { host: string; port: number } | undefined {
  if (!app.commandLine.hasSwitch('vmc-out')) return undefined;
  try {
    return parseVmcTarget(app.commandLine.getSwitchValue('vmc-out'));
  } catch (error) {
    throw new Error(`--vmc-out: ${(error as Error).message}`, { cause: error });
  }
}

/** The app window, or with `--overlay` the desktop overlay in its place. */
async function createWindow(overlay: OverlayLaunch | null, dataDir: string): Promise<void> {
  if (overlay) {
    mainWindow = await openDesktopOverlay({ launch: overlay, preloadPath, dataDir, log: (line) => console.log(line) });
  } else {
    mainWindow = new BrowserWindow({
      width: 1280,
      height: 800,
      backgroundColor: '#101418',
      title: 'Local Talking Avatar',
      webPreferences: webPreferencesFor('main', preloadPath),
    });
    void mainWindow.loadURL(APP_ENTRY_URL);
  }
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

/** Remote talk: the share server now, and one pooled hidden window on its pooled page. */
async function startRemoteTalk(): Promise<void> {
  const started = await share.get().catch(() => null);
  if (!started?.pooledRendererUrl) return;
  pages.setPooledPage(started.pooledRendererUrl);
  rendererPool = new RendererPool(new HiddenWindowRendererLauncher(preloadPath), {
    size: 1,
    url: started.pooledRendererUrl,
    log: (line) => console.warn(`Remote talk: ${line}`),
  });
  rendererPool.start().catch((error: unknown) => console.error(`Remote talk: the renderer failed to start: ${error instanceof Error ? error.message : String(error)}`));
}

ipcMain.on(IPC_FROM_RENDERER, (event: IpcMainEvent, raw: unknown) => {
  if (!event.senderFrame || !pages.mayUseEngine(event.senderFrame.url)) return;
  try {
    connectionFor(event.sender).handle(parseClientMessage(raw));
  } catch (error) {
    const appError = AppError.from(error);
    event.sender.send(IPC_TO_RENDERER, { type: 'error', ...appError.toShape() } satisfies ServerMessage);
  }
});

ipcMain.handle(IPC_SHARE_ENDPOINT, async (event: IpcMainInvokeEvent) => {
  if (!event.senderFrame || !pages.isAppPage(event.senderFrame.url)) return null;
  const started = await share.get().catch(() => null);
  return started?.endpoint ?? null;
});

installContentsPolicy(pages, externalLinks);

// An error escaping a handler is logged and the app keeps running; one that corrupts the engine quits cleanly.
installProcessGuard({
  log: (line) => console.error(line),
  onFatal: (reason) => {
    dialog.showErrorBox('Local Talking Avatar must close', `The app stopped because ${reason}.`);
    app.quit();
  },
});

app.on('second-instance', () => {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
});

app.whenReady().then(async () => {
  serveAppProtocol(rendererDir);
  installPermissionHandlers(session.defaultSession, pages);
  let composed: AppEngine;
  let overlay: OverlayLaunch | null;
  const dataDir = resolveDataDir();
  try {
    const vmcOut = vmcOutSwitch();
    overlay = parseOverlaySwitch(process.argv);
    composed = await composeAppEngine({
      profile: 'auto',
      dataDir,
      base: { ...defaultEngineConfig(), launcher: utilityHostLauncher },
      vmcOut,
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
  await createWindow(overlay, dataDir);
  if (remoteTalk) await startRemoteTalk();
  await engine.start();
});

app.on('window-all-closed', () => app.quit());

let shuttingDown = false;
app.on('before-quit', (event) => {
  if (shuttingDown) return;
  shuttingDown = true;
  event.preventDefault();
  Promise.allSettled([rendererPool?.close(), share.close(), engine?.shutdown()]).finally(() => app.exit(0));
});
