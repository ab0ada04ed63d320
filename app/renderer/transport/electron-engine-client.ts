import { ShareEndpointSchema, type ClientMessage, type ServerMessage, type ShareEndpoint } from '../../shared/messages.contract';
import type { ConnectionStatus, EngineClient } from './engine-client';
import { ListenerSet } from './listener-set';
import type { AvatarBridge } from '../../shared/bridge.contract';
import { validateIncoming } from './validate-incoming';


/** Asks the Electron shell where its share server listens; null without one or on a reply that does not validate. */
export async function desktopShareEndpoint(bridge: AvatarBridge): Promise<ShareEndpoint | null> {
  if (typeof bridge.shareEndpoint !== 'function') return null;
  const parsed = ShareEndpointSchema.safeParse(await bridge.shareEndpoint().catch(() => null));
  return parsed.success ? parsed.data : null;
}

/** Engine client over Electron IPC; messages are plain objects, PCM passes by structured clone. */
export class ElectronEngineClient implements EngineClient {
  readonly kind = 'electron';
  readonly status: ConnectionStatus = 'open';
  private readonly messages = new ListenerSet<ServerMessage>();
  private readonly unsubscribe: () => void;

  constructor(private readonly bridge: AvatarBridge) {
    this.unsubscribe = bridge.onMessage((raw) => this.messages.emit(validateIncoming(raw)));
  }

  send(message: ClientMessage): void {
    this.bridge.send(message);
  }

  onMessage(callback: (message: ServerMessage) => void): () => void {
    return this.messages.add(callback);
  }

  /** IPC is up for the window's lifetime; the callback sees the current status once. */
  onStatus(callback: (status: ConnectionStatus) => void): () => void {
    queueMicrotask(() => callback(this.status));
    return () => undefined;
  }

  close(): void {
    this.unsubscribe();
  }
}
