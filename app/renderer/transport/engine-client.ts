import type { ClientMessage, ServerMessage } from '../../shared/messages.contract';

/** Connection state of the transport to the engine. */
export type ConnectionStatus = 'connecting' | 'open' | 'closed';

/**
 * The renderer's one door to the engine, whatever carries the messages (Electron IPC or WebSocket).
 * Every message delivered to `onMessage` has been validated; invalid ones arrive as `error` messages.
 */
export interface EngineClient {
  /** Which transport this is, for the UI and diagnostics. */
  readonly kind: 'electron' | 'websocket';
  readonly status: ConnectionStatus;
  send(message: ClientMessage): void;
  onMessage(callback: (message: ServerMessage) => void): () => void;
  onStatus(callback: (status: ConnectionStatus) => void): () => void;
  close(): void;
}
