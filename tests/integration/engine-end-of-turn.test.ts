import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineInstance } from '../../app/engine/create-engine';
import type { VadSettings } from '../../app/shared/settings.contract';
import { micFrames, scriptedConfig, sendMic, startEngine, TestClient } from './engine-harness';

/**
 * Semantic end of turn on the real engine (host process, worker threads) with scripted workers: the
 * scripted end-of-turn model judges speech shorter than 1 s as mid-thought. A question spoken with a
 * 700 ms pause in the middle is one turn; with the setting on silence-only it is cut in two.
 */

let engine: EngineInstance;
let vad: VadSettings = {};

beforeAll(async () => {
  const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } } });
  engine = await startEngine({
    ...config,
    workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnIncompleteBelowMs: 1000, turnMs: 10 }, cpuBound: false } },
    pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200 } },
    vadSensitivity: () => vad,
  });
});

afterAll(async () => {
  await engine?.shutdown();
});

/** 600 ms of speech, a 700 ms thinking pause, 600 ms more, then silence. */
const pausedQuestion = (): Float32Array<ArrayBuffer>[] => [
  ...micFrames('silence', 400),
  ...micFrames('speech', 600),
  ...micFrames('silence', 700),
  ...micFrames('speech', 600),
  ...micFrames('silence', 2500),
];

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends frames one at a time, each on its 20 ms tick: the first quiet frame arrives 20 ms after the speech. */
async function speakFrameByFrame(client: TestClient, sessionId: string, frames: Float32Array<ArrayBuffer>[]): Promise<void> {
  const startedMs = performance.now();
  for (let i = 0, seq = 0; i < frames.length; i++) {
    seq = sendMic(client, sessionId, [frames[i]!], seq);
    await settle(Math.max(0, startedMs + (i + 1) * 20 - performance.now()));
  }
}

/** Sends frames paced in real time (20 ms each), as a microphone does. */
async function speak(client: TestClient, sessionId: string, frames: Float32Array<ArrayBuffer>[]): Promise<void> {
  let seq = 0;
  for (let i = 0; i < frames.length; i += 5) {
    seq = sendMic(client, sessionId, frames.slice(i, i + 5), seq);
    await settle(100);
  }
}

describe('semantic end of turn', () => {
  it('keeps a turn open over a thinking pause the model judges incomplete, and answers the whole question once', async () => {
    vad = {};
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    await speak(client, sessionId, pausedQuestion());
    await settle(1_000);
    const turns = client.messages.filter((m) => m.type === 'turn.started' && m.sessionId === sessionId && m.source === 'voice');
    expect(turns).toHaveLength(1);
    const transcript = client.messages.find((m) => m.type === 'transcript' && m.final);
    // The scripted STT names the audio's length: both halves and the pause reached it (≥ 1.9 s).
    expect(transcript).toBeDefined();
    const seconds = Number(/I spoke for ([\d.]+) seconds/.exec((transcript as { text: string }).text)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(1.9);
    client.connection.close();
  }, 60_000);

  it('ends the turn at the pause when the user chose silence-only', async () => {
    vad = { endOfTurn: 'silence' };
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    await speak(client, sessionId, pausedQuestion());
    await settle(1_000);
    const turns = client.messages.filter((m) => m.type === 'turn.started' && m.sessionId === sessionId && m.source === 'voice');
    expect(turns).toHaveLength(2);
    client.connection.close();
  }, 60_000);

  it('ends a complete utterance as soon as the model says so, without waiting for the longest pause', async () => {
    vad = {};
    const client = new TestClient(engine);
    const sessionId = await client.openSession();
    await speak(client, sessionId, [...micFrames('silence', 400), ...micFrames('speech', 1400), ...micFrames('silence', 1500)]);
    await settle(500);
    const trace = engine.session(sessionId)!.traces.at(-1)!;
    expect(trace.endpointMs! - trace.speechEndMs!).toBeLessThan(1000);
    client.connection.close();
  }, 60_000);
});

describe('a sure voice ends the turn before the words are in', () => {
  /**
   * An engine whose STT takes 700 ms and whose end-of-turn model says 0.95 for every pause (no
   * partial transcripts: one in flight would keep the pause's transcription from starting).
   */
  async function slowWordsEngine(voiceAloneThreshold: number | undefined): Promise<EngineInstance> {
    const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } }, stt: { options: { sttMs: 700 } } });
    return startEngine({
      ...config,
      interimTranscripts: { ...config.interimTranscripts!, enabled: false },
      workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnCompleteProbability: 0.95, turnMs: 10 }, cpuBound: false } },
      pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200, voiceAloneThreshold } },
    });
  }

  /** Speaks 1.4 s then silence; returns the voice turn's trace and its final transcript. */
  async function oneTurn(slow: EngineInstance): Promise<{ endpointAfterSpeechMs: number; sttAfterEndpointMs: number; text: string }> {
    const client = new TestClient(slow);
    const sessionId = await client.openSession();
    await speak(client, sessionId, [...micFrames('silence', 400), ...micFrames('speech', 1400), ...micFrames('silence', 1500)]);
    await settle(500);
    const trace = slow.session(sessionId)!.traces.find((kept) => kept.source === 'voice')!;
    const transcript = client.messages.find((m) => m.type === 'transcript' && m.final) as { text: string } | undefined;
    client.connection.close();
    return { endpointAfterSpeechMs: trace.endpointMs! - trace.speechEndMs!, sttAfterEndpointMs: trace.sttFinalMs! - trace.endpointMs!, text: transcript?.text ?? '' };
  }

  it('ends at the voice verdict and takes the pause transcript when it comes', async () => {
    const slow = await slowWordsEngine(0.9);
    try {
      const turn = await oneTurn(slow);
      // The VAD's 200 ms silence and the verdict, not the 700 ms transcription.
      expect(turn.endpointAfterSpeechMs).toBeLessThan(600);
      // The transcription started at the pause finishes after the endpoint and is the turn's (not a second 700 ms run).
      expect(turn.sttAfterEndpointMs).toBeGreaterThan(200);
      expect(turn.sttAfterEndpointMs).toBeLessThan(700);
      expect(turn.text).toMatch(/I spoke for 1\.\d+ seconds/);
    } finally {
      await slow.shutdown();
    }
  }, 60_000);

  it('waits for the words when the voice alone may not decide', async () => {
    const slow = await slowWordsEngine(undefined);
    try {
      const turn = await oneTurn(slow);
      expect(turn.endpointAfterSpeechMs).toBeGreaterThanOrEqual(700);
      expect(turn.sttAfterEndpointMs).toBeLessThan(100);
    } finally {
      await slow.shutdown();
    }
  }, 60_000);
});

describe('a short finished turn waits a little for more', () => {
  /** Every pause sounds finished and reads "Let me think." (3 words). */
  async function shortWordsEngine(shortTurnWords: number | undefined): Promise<EngineInstance> {
    const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } }, stt: { options: { transcript: 'Let me think.' } } });
    return startEngine({
      ...config,
      interimTranscripts: { ...config.interimTranscripts!, enabled: false },
      workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnCompleteProbability: 0.97, turnMs: 10 }, cpuBound: false } },
      pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200, shortTurnWords, shortTurnHoldMs: 900 } },
    });
  }

  /** 600 ms of speech, a 500 ms pause (the VAD's 200 ms silence included), 600 ms more, silence: how many voice turns. */
  async function voiceTurns(short: EngineInstance): Promise<number> {
    const client = new TestClient(short);
    const sessionId = await client.openSession();
    await speak(client, sessionId, [...micFrames('silence', 400), ...micFrames('speech', 600), ...micFrames('silence', 500), ...micFrames('speech', 600), ...micFrames('silence', 2000)]);
    await settle(500);
    const turns = client.messages.filter((m) => m.type === 'turn.started' && m.source === 'voice').length;
    client.connection.close();
    return turns;
  }

  it('keeps "Let me think." open across a short pause when short turns wait', async () => {
    const short = await shortWordsEngine(4);
    try {
      expect(await voiceTurns(short)).toBe(1);
    } finally {
      await short.shutdown();
    }
  }, 60_000);

  it('ends it at the pause without that wait', async () => {
    const short = await shortWordsEngine(undefined);
    try {
      expect(await voiceTurns(short)).toBe(2);
    } finally {
      await short.shutdown();
    }
  }, 60_000);
});

describe('a pause judged from its first unvoiced frames', () => {
  /** Every pause takes the model 600 ms and sounds sure (0.95); the words take 900 ms; the VAD's end silence is 200 ms. */
  async function slowModelEngine(judgeAfterSilenceMs: number | undefined): Promise<EngineInstance> {
    const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } }, stt: { options: { sttMs: 900 } } });
    return startEngine({
      ...config,
      interimTranscripts: { ...config.interimTranscripts!, enabled: false },
      workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnCompleteProbability: 0.95, turnMs: 600 }, cpuBound: false } },
      pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200, voiceAloneThreshold: 0.9, judgeAfterSilenceMs } },
    });
  }

  /** Speaks 1.4 s then silence: the speech end → endpoint time, and the turn's words. */
  async function endpointAfterSpeech(slow: EngineInstance): Promise<{ ms: number; text: string }> {
    const client = new TestClient(slow);
    const sessionId = await client.openSession();
    // Frame by frame (not 100 ms at a time): the first unvoiced frame arrives 20 ms after the speech.
    const frames = [...micFrames('silence', 400), ...micFrames('speech', 1400), ...micFrames('silence', 2000)];
    await speakFrameByFrame(client, sessionId, frames);
    await settle(500);
    const trace = slow.session(sessionId)!.traces.find((kept) => kept.source === 'voice')!;
    const transcript = client.messages.find((m) => m.type === 'transcript' && m.final) as { text: string } | undefined;
    client.connection.close();
    return { ms: trace.endpointMs! - trace.speechEndMs!, text: transcript?.text ?? '' };
  }

  it('withdraws an end the voice decided at a gap between words when the voice comes back, and answers the whole utterance once', async () => {
    const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } }, stt: { options: { sttMs: 400 } } });
    const withdrawn: string[] = [];
    const gap = await startEngine({
      ...config,
      interimTranscripts: { ...config.interimTranscripts!, enabled: false },
      workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnCompleteProbability: 0.97, turnMs: 10 }, cpuBound: false } },
      pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200, voiceAloneThreshold: 0.9, judgeAfterSilenceMs: 20 } },
      onDiagnostic: (event) => {
        if (event.type === 'end-withdrawn') withdrawn.push(event.cause);
      },
    });
    try {
      const client = new TestClient(gap);
      const sessionId = await client.openSession();
      // 1 s of speech, a 120 ms gap (shorter than the VAD's silence), 600 ms more, then silence; frame by frame.
      const frames = [...micFrames('silence', 400), ...micFrames('speech', 1000), ...micFrames('silence', 120), ...micFrames('speech', 600), ...micFrames('silence', 2000)];
      await speakFrameByFrame(client, sessionId, frames);
      await settle(800);
      // The gap ended the turn on the voice; the voice coming back withdrew it before anything was sent.
      expect(withdrawn).toContain('voice');
      const turns = client.messages.filter((m) => m.type === 'turn.started' && m.sessionId === sessionId && m.source === 'voice');
      expect(turns).toHaveLength(1);
      const answered = client.messages.filter((m) => m.type === 'transcript' && m.final);
      expect(answered).toHaveLength(1);
      // The scripted STT names the audio's length: both parts reached the one turn (≥ 1.7 s).
      const seconds = Number((answered[0] as { text: string }).text.match(/I spoke for (\d+\.\d+) seconds/)?.[1]);
      expect(seconds).toBeGreaterThanOrEqual(1.7);
      client.connection.close();
    } finally {
      await gap.shutdown();
    }
  }, 60_000);

  it('judges an early end again once the VAD\'s silence ran out, and keeps the turn open when the voice then sounds unfinished', async () => {
    /** The voice sounds finished 20 ms after the speech and unfinished once 150 ms of silence follow it. */
    const engineWith = (secondLook: boolean): Promise<EngineInstance> => {
      const config = scriptedConfig({ vad: { options: { vadMinSilenceMs: 200 } }, stt: { options: { sttMs: 50 } } });
      return startEngine({
        ...config,
        interimTranscripts: { ...config.interimTranscripts!, enabled: false },
        workers: { ...config.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, options: { turnCompleteProbability: 0.97, turnIncompleteAfterSilenceMs: 150, turnMs: 10 }, cpuBound: false } },
        pipeline: { ...config.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: 200, voiceAloneThreshold: 0.5, judgeAfterSilenceMs: 20, secondLook } },
      });
    };
    const voiceTurns = async (engine: EngineInstance): Promise<number> => {
      const client = new TestClient(engine);
      const sessionId = await client.openSession();
      const frames = [...micFrames('silence', 400), ...micFrames('speech', 1000), ...micFrames('silence', 700), ...micFrames('speech', 600), ...micFrames('silence', 2200)];
      await speakFrameByFrame(client, sessionId, frames);
      await settle(300);
      const turns = client.messages.filter((m) => m.type === 'turn.started' && m.source === 'voice').length;
      client.connection.close();
      return turns;
    };
    const looking = await engineWith(true);
    const notLooking = await engineWith(false);
    try {
      // The thinking pause: ended early on the voice, reopened by the second look, the question heard whole.
      expect(await voiceTurns(looking)).toBe(1);
      // Without it the first half is a turn of its own.
      expect(await voiceTurns(notLooking)).toBe(2);
    } finally {
      await looking.shutdown();
      await notLooking.shutdown();
    }
  }, 60_000);

  it('has its verdict ready sooner than one judged at the VAD\'s speech end, and the turn still gets the pause\'s words', async () => {
    const early = await slowModelEngine(20);
    const late = await slowModelEngine(undefined);
    try {
      const judgedEarly = await endpointAfterSpeech(early);
      const judgedLate = await endpointAfterSpeech(late);
      // Late: the VAD's 200 ms, then the model's 600 ms. Early: the model started ~180 ms before the VAD's end.
      expect(judgedLate.ms).toBeGreaterThanOrEqual(780);
      expect(judgedEarly.ms).toBeLessThan(judgedLate.ms - 100);
      expect(judgedEarly.text).toMatch(/I spoke for 1\.\d+ seconds/);
    } finally {
      await early.shutdown();
      await late.shutdown();
    }
  }, 60_000);
});
