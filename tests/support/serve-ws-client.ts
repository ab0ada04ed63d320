import WebSocket from 'ws';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import { parseServerMessage } from '../../app/shared/validate';

/** A page's engine socket (`/ws?token=…`) to a `serve` host, in Node: every validated message it received, and a few typed steps. */

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export class ServeWsClient {
  readonly messages: ServerMessage[] = [];
  sessionId = '';
  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push(parseServerMessage(isBinary ? decodeBinaryFrame(new Uint8Array(data)) : JSON.parse(data.toString('utf8'))));
    });
  }

  static async connect(appUrl: URL): Promise<ServeWsClient> {
    const ws = new WebSocket(`ws://${appUrl.host}/ws?token=${encodeURIComponent(appUrl.searchParams.get('token')!)}`);
    const client = new ServeWsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: ClientMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The first message of `type` from index `from` on that matches. */
  async waitFor<T extends ServerMessage['type']>(type: T, match: (message: Of<T>) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<Of<T>> {
    const untilMs = performance.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find((message): message is Of<T> => message.type === type && match(message as Of<T>));
      if (found) return found;
      if (performance.now() > untilMs) throw new Error(`timed out waiting for ${type}; got ${this.messages.slice(from).map((m) => m.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Opens a session once the engine is ready; resolves with the conversation it continues. */
  async open(): Promise<Of<'conversation.loaded'>> {
    await this.waitFor('engine.status', (status) => status.ready, 0, 120_000);
    const from = this.messages.length;
    this.send({ type: 'session.open', requestId: 'soak-faults' });
    this.sessionId = (await this.waitFor('session.opened', () => true, from)).sessionId;
    return this.waitFor('conversation.loaded', () => true, from);
  }

  /** Types `text`; resolves with its turn's end. */
  async say(text: string): Promise<Of<'turn.ended'>> {
    const from = this.messages.length;
    this.send({ type: 'user.text', sessionId: this.sessionId, text });
    return this.waitFor('turn.ended', () => true, from);
  }

  close(): void {
    this.ws.close();
  }
}
