import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import type { VisionSummary } from '../../app/shared/vision.contract';
import { scriptedConfig, startEngine, TestClient } from './engine-harness';

/** The camera's words in the engine: the prompt's vision line and the arrival greeting, over real worker threads (scripted LLM). */

const smiling: VisionSummary = { present: true, faces: 1, attention: 'at-avatar', expression: 'happy', gestures: ['smile'] };

describe('engine: what the camera sees', () => {
  let engine: EngineInstance;

  beforeAll(async () => {
    engine = await startEngine(
      scriptedConfig({ vad: { count: 0 }, stt: { count: 0 }, llm: { options: { firstTokenMs: 5, tokenMs: 5 } }, tts: { options: { ttsMsPerChar: 1 } } }),
    );
  });
  afterAll(async () => engine?.shutdown());

  async function ask(client: TestClient, sessionId: string, text: string): Promise<string> {
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text });
    return (await client.turnEnded(sessionId, from)).replyText;
  }

  it('adds one line of what the camera sees to the prompt while it is on, and none once it is off', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    expect(await ask(client, sessionId, 'What do you see?')).toBe('I cannot see you: my camera is off.');

    client.send({ type: 'vision.summary', sessionId, summary: smiling });
    expect(await ask(client, sessionId, 'What do you see?')).toBe('Through your camera (you cannot make out details): The user is smiling and is looking at you.');

    client.send({ type: 'vision.summary', sessionId, summary: null });
    expect(await ask(client, sessionId, 'What do you see?')).toBe('I cannot see you: my camera is off.');
  });

  it('greets an arrival with one camera turn, never over a reply in progress, and keeps no cue in the conversation file', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    const from = client.messages.length;
    client.send({ type: 'vision.arrival', sessionId, reason: 'arrival' });
    const ended = await client.turnEnded(sessionId, from);
    expect(ended.status).toBe('complete');
    const started = client.ofTurn('turn.started', ended.turnId);
    expect(started).toEqual([expect.objectContaining({ source: 'camera' })]);
    expect(started[0]).not.toHaveProperty('userText');
    expect(ended.replyText).toBe('Hello there, nice to see you!');

    // While a reply is in progress, an arrival is not greeted (no second turn, the reply goes on).
    const before = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: 'say: One two three four five six seven eight nine ten.' });
    await client.waitFor((m) => m.type === 'reply.delta' && m.sessionId === sessionId, 20_000, before);
    client.send({ type: 'vision.arrival', sessionId, reason: 'arrival' });
    const reply = await client.turnEnded(sessionId, before);
    expect(reply.status).toBe('complete');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cameraTurns = client.messages.filter((m) => m.type === 'turn.started' && m.sessionId === sessionId && m.source === 'camera');
    expect(cameraTurns).toHaveLength(1);

    client.send({ type: 'conversation.export', sessionId, format: 'json' });
    const exported = await client.waitFor((m) => m.type === 'conversation.exported' && m.sessionId === sessionId);
    const messages = (JSON.parse((exported as { content: string }).content) as { messages: { role: string; turnId: string; text: string }[] }).messages;
    expect(messages.filter((message) => message.turnId === ended.turnId)).toEqual([expect.objectContaining({ role: 'avatar', text: 'Hello there, nice to see you!' })]);
  });

  it('answers a wave with a short camera turn of its own cue', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    const from = client.messages.length;
    client.send({ type: 'vision.arrival', sessionId, reason: 'wave' });
    const ended = await client.turnEnded(sessionId, from);
    expect(ended.status).toBe('complete');
    expect(client.ofTurn('turn.started', ended.turnId)).toEqual([expect.objectContaining({ source: 'camera' })]);
    expect(ended.replyText).toBe('Hi! I see you waving.');
  });
});
