import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { encodeBinaryFrame } from '../../app/shared/binary-frame';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { ElectronEngineClient } from '../../app/renderer/transport/electron-engine-client';
import type { ConnectionStatus } from '../../app/renderer/transport/engine-client';
import { WebSocketEngineClient } from '../../app/renderer/transport/websocket-engine-client';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function nextStatus(client: { onStatus(cb: (s: ConnectionStatus) => void): () => void }, wanted: ConnectionStatus): Promise<void> {
  return new Promise((resolve) => {
    const off = client.onStatus((status) => {
      if (status === wanted) {
        off();
        resolve();
      }
    });
  });
}

describe('WebSocketEngineClient', () => {
  it('speaks JSON and binary frames, validates what arrives, and reconnects after a drop', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const received: unknown[] = [];
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => received.push(isBinary ? 'binary' : JSON.parse(data.toString())));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws?token=t`;
    const client = new WebSocketEngineClient(url, NodeWebSocket as unknown as typeof WebSocket);
    cleanups.push(() => {
      client.close();
      server.close();
    });
    const messages: ServerMessage[] = [];
    client.onMessage((message) => messages.push(message));
    await nextStatus(client, 'open');

    client.send({ type: 'session.open', requestId: 'r1' });
    client.send({ type: 'mic.audio', sessionId: 's', seq: 0, sampleRateHz: 16000, pcm: new Float32Array(160) });
    await expect.poll(() => received).toEqual([{ type: 'session.open', requestId: 'r1' }, 'binary']);

    const [socket] = [...server.clients];
    socket!.send(JSON.stringify({ type: 'session.opened', requestId: 'r1', sessionId: 's1' }));
    socket!.send(
      encodeBinaryFrame({ type: 'tts.chunk', sessionId: 's1', turnId: 't', seq: 0, text: 'a', sampleRateHz: 16000, phonemes: [], pcm: new Float32Array([0.25]) }),
    );
    socket!.send(JSON.stringify({ type: 'reply.delta' }));
    await expect.poll(() => messages.length).toBe(3);
    expect(messages[0]).toEqual({ type: 'session.opened', requestId: 'r1', sessionId: 's1' });
    expect(messages[1]?.type === 'tts.chunk' && Array.from(messages[1].pcm)).toEqual([0.25]);
    expect(messages[2]).toMatchObject({ type: 'error', code: 'invalid_message' });

    // The server drops the connection: the client reports it and comes back by itself.
    const reopened = nextStatus(client, 'open');
    socket!.terminate();
    await reopened;
    expect(messages.some((m) => m.type === 'error' && m.message.includes('connection to the engine closed'))).toBe(true);
    expect(server.clients.size).toBe(1);
  });
});

describe('ElectronEngineClient', () => {
  it('passes messages through the preload bridge and validates what comes back', async () => {
    const sent: unknown[] = [];
    let deliver: (message: unknown) => void = () => undefined;
    const client = new ElectronEngineClient({
      send: (message) => sent.push(message),
      onMessage: (callback) => {
        deliver = callback;
        return () => undefined;
      },
    });
    const messages: ServerMessage[] = [];
    client.onMessage((message) => messages.push(message));
    await nextStatus(client, 'open');
    client.send({ type: 'ping', nonce: 1 });
    deliver({ type: 'pong', nonce: 1 });
    deliver({ type: 'pong' });
    expect(sent).toEqual([{ type: 'ping', nonce: 1 }]);
    expect(messages[0]).toEqual({ type: 'pong', nonce: 1 });
    expect(messages[1]).toMatchObject({ type: 'error', code: 'invalid_message' });
  });
});
