import type { ShareEndpoint } from '../../shared/messages.contract';
import { startServeHost, type ServeHandle } from '../serve/serve-host';
import { APP_ORIGIN } from './app-protocol';

export interface DesktopShareOptions {
  /** The renderer build: the viewer page (`/view`) comes from it. */
  rendererDir: string;
  /** Listen on every interface (the user opted in); loopback otherwise. */
  lan?: boolean;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Remote talk (opt-in): talkers with the talk token lease pooled renderers. */
  remoteTalk?: boolean;
  /**
   * The origin of the window's page, which `/signal` accepts besides this server's own pages:
   * `app://avatar` (default); tests that serve the build under another origin give theirs.
   */
  windowOrigin?: string;
}

export interface DesktopShare {
  /** What the window needs to share (signaling address and app token) and the viewer address. */
  endpoint: ShareEndpoint;
  handle: ServeHandle;
  /**
   * The pooled renderer page (`/?token=…&remote=1` from this server, so it finds the remote-talk hub
   * at its own address); null unless remote talk is on.
   */
  pooledRendererUrl: string | null;
  close(): Promise<void>;
}

/**
 * The desktop app's share server: the same host as `serve` (`/signal`, `/view`, `/whep`, a random
 * app token and a watch-only view token) but without the engine WebSocket, because the window talks
 * to the engine over IPC and nothing else should. Plain Node, so tests run it without Electron.
 */
export async function startDesktopShare(options: DesktopShareOptions): Promise<DesktopShare> {
  const handle = await startServeHost({
    engine: null,
    rendererDir: options.rendererDir,
    port: options.port ?? 0,
    host: options.lan ? '0.0.0.0' : '127.0.0.1',
    signalOrigins: [options.windowOrigin ?? APP_ORIGIN],
    ...(options.remoteTalk ? { share: { remoteTalk: {} } } : {}),
  });
  // Even on the LAN, the window itself signals over loopback.
  const signalUrl = `ws://127.0.0.1:${handle.port}/signal`;
  return {
    endpoint: { signalUrl, token: handle.token, viewUrl: handle.viewUrl },
    handle,
    pooledRendererUrl: handle.talkUrl ? `${handle.url}&remote=1` : null,
    close: () => handle.close(),
  };
}
