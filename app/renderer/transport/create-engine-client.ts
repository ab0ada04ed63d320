import type { AvatarBridge } from '../../shared/bridge.contract';
import { ElectronEngineClient } from './electron-engine-client';
import type { EngineClient } from './engine-client';
import { conversationQuery, pageConversationId } from './page-conversation';
import { pageToken } from './page-token';
import { WebSocketEngineClient } from './websocket-engine-client';

declare global {
  interface Window {
    /** Present only inside the Electron window (exposed by the preload). */
    avatarBridge?: AvatarBridge;
  }
}

/** The WebSocket address of the `serve` host that served this page, with the page's token (and its conversation, for a load balancer's affinity). */
export function engineWebSocketUrl(location: Pick<Location, 'protocol' | 'host'>, token: string, conversationId?: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}${conversationQuery(conversationId)}`;
}

/** Electron IPC when the preload exposed its bridge, otherwise the `serve` host's WebSocket. */
export function createEngineClient(): EngineClient {
  const bridge = window.avatarBridge;
  if (bridge && typeof bridge.send === 'function' && typeof bridge.onMessage === 'function') {
    return new ElectronEngineClient(bridge);
  }
  // Read at each reconnect: the conversation in the address changes with "New conversation".
  return new WebSocketEngineClient(() => engineWebSocketUrl(window.location, pageToken(), pageConversationId()));
}
