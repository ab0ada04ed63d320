import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

/** Speech in which STT finds no words (a cough, a laugh) is dropped quietly: no error, no reply, nothing in history. */

let engine: EngineInstance;

beforeAll(async () => {
  engine = await startEngine(scriptedConfig({ stt: { options: { transcript: '' } } }));
});

afterAll(async () => {
  await engine?.shutdown();
});

describe('an utterance without words', () => {
  it('ends its turn as empty, with no error shown and no reply', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    sendMic(client, sessionId, [...micFrames('silence', 300), ...micFrames('speech', 500), ...micFrames('silence', 600)], 0);
    const ended = await client.waitFor((m) => m.type === 'turn.ended' && m.sessionId === sessionId);
    expect(ended).toMatchObject({ status: 'empty', replyText: '', heardText: '' });
    expect(client.messages.some((m) => m.type === 'error')).toBe(false);
    expect(engine.session(sessionId)!.history).toHaveLength(1); // the system prompt only
    client.connection.close();
  }, 30_000);
});
