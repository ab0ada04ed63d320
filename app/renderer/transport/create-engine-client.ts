import type { AvatarBridge } from '../../shared/bridge.contract';
import { ElectronEngineClient } from './electron-engine-client';
import type { EngineClient } from './engine-client';
import { pageToken } from './page-token';
import { WebSocketEngineClient } from './websocket-engine-client';

declare global {
  interface Window {
    /** Present only inside the Electron window (exposed by the preload). */
    avatarBridge?: AvatarBridge;
  }
}

/** The WebSocket address of the `serve` host that served this page, with the page's token. */
export function engineWebSocketUrl(location: Pick<Location, 'protocol' | 'host'>, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
}

/** Electron IPC when the preload exposed its bridge, otherwise the `serve` host's WebSocket. */
export function createEngineClient(): EngineClient {
  const bridge = window.avatarBridge;
  if (bridge && typeof bridge.send === 'function' && typeof bridge.onMessage === 'function') {
    return new ElectronEngineClient(bridge);
  }
  return new WebSocketEngineClient(engineWebSocketUrl(window.location, pageToken()));
}
