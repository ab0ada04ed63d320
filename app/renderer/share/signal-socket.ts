import {
  CLOSE_BUSY,
  ShareServerMessageSchema,
  type ShareClientMessage,
  type ShareRole,
  type ShareServerMessage,
} from '../../shared/share.contract';
import { conversationQuery } from '../transport/page-conversation';

/** Waits before reconnecting: quickly after a drop, longer when the share is busy. */
const RETRY_MS = 1000;
const BUSY_RETRY_MS = 5000;

/** The signaling address of a share server (the `serve` host that served this page, or the desktop app's), for a role and token (and the conversation, for a load balancer's affinity). */
export function signalUrl(location: Pick<Location, 'protocol' | 'host'>, role: ShareRole, token: string, conversationId?: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/signal?role=${role}&token=${encodeURIComponent(token)}${conversationQuery(conversationId)}`;
}

export interface SignalSocketEvents {
  message(message: ShareServerMessage): void;
  /** The socket opened (true) or dropped (false); it reconnects by itself until closed. */
  status(open: boolean): void;
}

/**
 * A signaling WebSocket that validates what arrives and reconnects until closed, so a restarted
 * engine, a busy share or a dropped network heals without the page doing anything.
 */
export class SignalSocket {
  private ws: WebSocket | null = null;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly events: SignalSocketEvents,
  ) {
    this.open();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(message: ShareClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Drops the current connection and opens a new one (a viewer rejoining with a fresh peer). */
  reconnect(): void {
    this.ws?.close();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.ws?.close();
  }

  private open(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      // The engine closes a signaling socket that says nothing in time.
      this.send({ type: 'hello' });
      this.events.status(true);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let raw: unknown;
      try {
        raw = JSON.parse(event.data);
      } catch {
        return;
      }
      const parsed = ShareServerMessageSchema.safeParse(raw);
      if (parsed.success) this.events.message(parsed.data);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.events.status(false);
      if (!this.closed) this.retry = setTimeout(() => this.open(), event.code === CLOSE_BUSY ? BUSY_RETRY_MS : RETRY_MS);
    };
  }
}
