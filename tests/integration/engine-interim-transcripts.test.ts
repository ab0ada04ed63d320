import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import type { EngineDiagnostic } from '../../app/engine/engine-config';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

type Transcript = Extract<ServerMessage, { type: 'transcript' }>;

const STT_MS = 1000;
const EVERY_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "I spoke for 1.3 seconds." → 1.3 (the scripted STT reports how much audio it was given). */
function spokenSeconds(text: string): number {
  return Number(/for ([\d.]+) seconds/.exec(text)?.[1]);
}

describe('engine: interim transcripts while the user speaks', () => {
  let engine: EngineInstance;
  let client: TestClient;
  let sessionId: string;
  let micSeq = 0;
  const diagnostics: EngineDiagnostic[] = [];

  beforeAll(async () => {
    engine = await startEngine(
      scriptedConfig(
        { stt: { options: { sttMs: STT_MS } }, llm: { options: { replySentences: 1 } } },
        { interimTranscripts: { enabled: true, everyMs: EVERY_MS, sttEngines: ['scripted'] }, onDiagnostic: (event) => diagnostics.push(event) },
      ),
    );
    client = new TestClient(engine);
    sessionId = await client.openSession();
  });
  afterAll(async () => engine?.shutdown());

  const transcriptsFrom = (from: number): Transcript[] => client.messages.slice(from).filter((m): m is Transcript => m.type === 'transcript');

  it('sends growing partial transcripts during speech, then the final one for the same turn, and no partial after it', async () => {
    const from = client.messages.length;
    // 2.5 s of speech at the pace of a microphone, then the silence that ends it.
    const speech = micFrames('speech', 2500);
    for (let i = 0; i < speech.length; i += 5) {
      micSeq = sendMic(client, sessionId, speech.slice(i, i + 5), micSeq);
      await sleep(100);
    }
    micSeq = sendMic(client, sessionId, micFrames('silence', 400), micSeq);
    const ended = await client.turnEnded(sessionId, from);
    await sleep(STT_MS + 200); // Long enough for a partial run that was not cancelled to report.

    const transcripts = transcriptsFrom(from);
    const finalIndex = transcripts.findIndex((t) => t.final);
    expect(finalIndex).toBeGreaterThan(0);
    const partials = transcripts.slice(0, finalIndex);
    expect(partials.length).toBeGreaterThanOrEqual(1);
    expect(partials.every((t) => !t.final)).toBe(true);
    expect(transcripts.slice(finalIndex + 1)).toEqual([]);
    // They all name the turn the utterance became.
    expect(new Set(transcripts.map((t) => t.turnId))).toEqual(new Set([ended.turnId]));
    const started = client.messages.find((m) => m.type === 'turn.started' && m.turnId === ended.turnId);
    expect(started).toBeDefined();
    // Partials were sent while the user was still speaking (before the VAD's speech-end).
    const speechEnd = client.messages.findIndex((m, i) => i >= from && m.type === 'vad' && m.event === 'speech-end');
    expect(client.messages.indexOf(partials[0]!)).toBeLessThan(speechEnd);
    // Each partial covers more audio than the one before; the final covers the most.
    const seconds = transcripts.map((t) => spokenSeconds(t.text));
    for (let i = 1; i < seconds.length; i++) expect(seconds[i]!).toBeGreaterThan(seconds[i - 1]!);
    expect(seconds.at(-1)).toBeGreaterThanOrEqual(2.5);
  }, 20_000);

  it('cancels a partial run still in flight at speech-end so the final run starts at once, and drops its result', async () => {
    const from = client.messages.length;
    const diagnosticsFrom = diagnostics.length;
    // All at once: a partial run starts after 300 ms of stream audio and is still running (1 s) at speech-end.
    micSeq = sendMic(client, sessionId, [...micFrames('speech', 1000), ...micFrames('silence', 400)], micSeq);
    const ended = await client.turnEnded(sessionId, from);
    await sleep(STT_MS + 200);

    expect(diagnostics.slice(diagnosticsFrom)).toEqual([{ type: 'interim-stt-cancelled', sessionId, turnId: undefined }]);
    const transcripts = transcriptsFrom(from);
    expect(transcripts).toHaveLength(1);
    expect(transcripts[0]).toMatchObject({ turnId: ended.turnId, final: true });
    expect(spokenSeconds(transcripts[0]!.text)).toBeGreaterThanOrEqual(1);
    // The final run did not queue behind the partial one (that would take about two STT runs).
    const trace = engine.session(sessionId)!.traces.find((t) => t.turnId === ended.turnId)!;
    expect(trace.sttFinalMs! - trace.endpointMs!).toBeLessThan(1.6 * STT_MS);
  }, 20_000);

  it('withdraws a partial transcript with an empty final one when the utterance turns out to be noise', async () => {
    const from = client.messages.length;
    // A 60 ms click, then a long hum: loud enough for the VAD, too far below the click to count as speech.
    const tone = (amplitude: number, durationMs: number) =>
      micFrames('speech', durationMs).map((frame) => frame.map((sample) => (sample / 0.3) * amplitude) as Float32Array<ArrayBuffer>);
    micSeq = sendMic(client, sessionId, tone(0.9, 60), micSeq);
    const hum = tone(0.05, 1800);
    for (let i = 0; i < hum.length; i += 5) {
      micSeq = sendMic(client, sessionId, hum.slice(i, i + 5), micSeq);
      await sleep(100);
    }
    micSeq = sendMic(client, sessionId, micFrames('silence', 400), micSeq);
    const withdrawn = (await client.waitFor((m) => m.type === 'transcript' && m.final, 10_000, from)) as Transcript;
    await sleep(300);

    const transcripts = transcriptsFrom(from);
    expect(transcripts.length).toBeGreaterThanOrEqual(2);
    expect(transcripts.at(-1)).toEqual({ type: 'transcript', sessionId, turnId: withdrawn.turnId, text: '', final: true });
    expect(transcripts.slice(0, -1).every((t) => !t.final && t.turnId === withdrawn.turnId)).toBe(true);
    // Not a turn: nothing started for that id.
    expect(client.messages.slice(from).some((m) => m.type === 'turn.started')).toBe(false);
  }, 20_000);
});

describe('engine: interim transcripts off', () => {
  let engine: EngineInstance;

  beforeAll(async () => {
    engine = await startEngine(scriptedConfig({}, { interimTranscripts: { enabled: false, everyMs: EVERY_MS, sttEngines: ['scripted'] } }));
  });
  afterAll(async () => engine?.shutdown());

  it('sends only the final transcript', async () => {
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    const speech = micFrames('speech', 1500);
    let seq = 0;
    for (let i = 0; i < speech.length; i += 10) {
      seq = sendMic(client, sessionId, speech.slice(i, i + 10), seq);
      await sleep(100);
    }
    sendMic(client, sessionId, micFrames('silence', 400), seq);
    await client.turnEnded(sessionId);
    const transcripts = client.messages.filter((m): m is Transcript => m.type === 'transcript');
    expect(transcripts.map((t) => t.final)).toEqual([true]);
  }, 20_000);
});
