import { decodeBinaryFrame, encodeBinaryFrame, hasPcm } from '../../shared/binary-frame';
import { ErrorCode } from '../../shared/errors.contract';
import type { ClientMessage, ServerMessage } from '../../shared/messages.contract';
import type { ConnectionStatus, EngineClient } from './engine-client';
import { ListenerSet } from './listener-set';
import { validateIncoming } from './validate-incoming';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 8000;

/**
 * Engine client over the `serve` host's WebSocket: JSON text frames, binary frames
 * (binary-frame.ts) for messages with PCM. Reconnects with exponential backoff; a new connection
 * is a new engine connection, so listeners of `onStatus('open')` open their session again.
 */
export class WebSocketEngineClient implements EngineClient {
  readonly kind = 'websocket';
  private socket: WebSocket | null = null;
  private currentStatus: ConnectionStatus = 'connecting';
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closedByUser = false;
  private reportedDown = false;
  private readonly messages = new ListenerSet<ServerMessage>();
  private readonly statuses = new ListenerSet<ConnectionStatus>();

  /** `url` is read at each (re)connect when it is a function; `socketClass` is the page's WebSocket, tests pass a Node implementation. */
  constructor(
    private readonly url: string | (() => string),
    private readonly socketClass: typeof WebSocket = WebSocket,
  ) {
    this.connect();
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  send(message: ClientMessage): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== this.socketClass.OPEN) {
      this.localError(`Not connected to the engine: "${message.type}" was not sent. Reconnecting…`);
      return;
    }
    socket.send(hasPcm(message) ? encodeBinaryFrame(message) : JSON.stringify(message));
  }

  onMessage(callback: (message: ServerMessage) => void): () => void {
    return this.messages.add(callback);
  }

  onStatus(callback: (status: ConnectionStatus) => void): () => void {
    return this.statuses.add(callback);
  }

  close(): void {
    this.closedByUser = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'page closed');
    this.setStatus('closed');
  }

  private connect(): void {
    this.setStatus('connecting');
    const socket = new this.socketClass(typeof this.url === 'function' ? this.url() : this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.reportedDown = false;
      this.setStatus('open');
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => this.receive(event.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closedByUser) return;
      this.setStatus('closed');
      if (!this.reportedDown) {
        this.reportedDown = true;
        this.localError(
          `The connection to the engine closed (code ${event.code}). ` +
            'Retrying; if this persists, check that the engine is running, and open the address it printed (a restart makes a new token).',
        );
      }
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs * (0.8 + Math.random() * 0.4));
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
  }

  private receive(data: string | ArrayBuffer): void {
    let value: unknown;
    try {
      value = typeof data === 'string' ? JSON.parse(data) : decodeBinaryFrame(new Uint8Array(data));
    } catch (error) {
      this.localError(`Received an unreadable message from the engine: ${(error as Error).message}`, ErrorCode.InvalidMessage);
      return;
    }
    this.messages.emit(validateIncoming(value));
  }

  private localError(message: string, code: ErrorCode = ErrorCode.Internal): void {
    this.messages.emit({ type: 'error', code, message, recoverable: true });
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.currentStatus && status !== 'connecting') return;
    this.currentStatus = status;
    this.statuses.emit(status);
  }
}
