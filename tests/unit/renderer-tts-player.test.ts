import { afterEach, describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import { TtsPlayer } from '../../app/renderer/audio/tts-player';
import { ScheduledVisemeTrack } from '../../app/shared/lipsync';

type TtsChunk = Extract<ServerMessage, { type: 'tts.chunk' }>;

/** The parts of an AudioContext the player uses, with a clock the test moves. */
class FakeAudioContext {
  currentTime = 10;
  outputLatency = 0.03;
  baseLatency = 0.01;
  state = 'running';
  readonly destination = {};
  readonly starts: { startSec: number; stopSec?: number; samples: number[] }[] = [];
  readonly gains: { ramps: [string, number, number][] }[] = [];

  createGain() {
    const record = { ramps: [] as [string, number, number][] };
    this.gains.push(record);
    return {
      connect: () => undefined,
      disconnect: () => undefined,
      gain: {
        value: 1,
        cancelScheduledValues: (t: number) => record.ramps.push(['cancel', 0, t]),
        setValueAtTime: (v: number, t: number) => record.ramps.push(['set', v, t]),
        linearRampToValueAtTime: (v: number, t: number) => record.ramps.push(['ramp', v, t]),
      },
    };
  }

  createBuffer(_channels: number, length: number, sampleRate: number) {
    const data = new Float32Array(length);
    return { duration: length / sampleRate, copyToChannel: (source: Float32Array) => data.set(source), data };
  }

  createBufferSource() {
    const entry: { startSec: number; stopSec?: number; samples: number[] } = { startSec: NaN, samples: [] };
    const node = {
      buffer: null as { data: Float32Array } | null,
      connect: () => undefined,
      start: (t: number) => {
        entry.startSec = t;
        entry.samples = Array.from(node.buffer!.data);
        this.starts.push(entry);
      },
      stop: (t: number) => {
        entry.stopSec = t;
      },
    };
    return node;
  }

  resume() {
    return Promise.resolve();
  }

  close() {
    return Promise.resolve();
  }
}

function chunk(seq: number, durationSec: number, value: number): TtsChunk {
  const sampleRateHz = 1000;
  return {
    type: 'tts.chunk',
    sessionId: 's',
    turnId: 't',
    seq,
    text: `chunk ${seq}`,
    sampleRateHz,
    phonemes: [{ phoneme: 'a', startMs: 0, endMs: durationSec * 1000 }],
    pcm: new Float32Array(Math.round(durationSec * sampleRateHz)).fill(value),
  };
}

const players: TtsPlayer[] = [];
afterEach(() => players.splice(0).forEach((player) => player.dispose()));

function setup() {
  const context = new FakeAudioContext();
  const reports: Extract<ClientMessage, { type: 'playback.progress' }>[] = [];
  const lipSync = new ScheduledVisemeTrack();
  const player = new TtsPlayer(lipSync, (message) => reports.push(message), context as unknown as AudioContext);
  players.push(player);
  return { context, reports, lipSync, player };
}

describe('TtsPlayer', () => {
  it('plays chunks back to back in seq order, whatever order they arrive in', () => {
    const { context, player } = setup();
    player.enqueue(chunk(1, 0.5, 0.2));
    expect(context.starts).toHaveLength(0);
    player.enqueue(chunk(0, 0.25, 0.1));
    player.enqueue(chunk(2, 0.1, 0.3));
    expect(context.starts.map((s) => s.samples[0])).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    const [first, second, third] = context.starts;
    expect(first!.startSec).toBeCloseTo(10.02, 9);
    // Gap-free: each chunk starts exactly where the previous one ends.
    expect(second!.startSec).toBeCloseTo(first!.startSec + 0.25, 9);
    expect(third!.startSec).toBeCloseTo(second!.startSec + 0.5, 9);
  });

  it('reports started when the first sample is heard, progress while playing, ended at the end', () => {
    const { context, reports, player } = setup();
    player.enqueue(chunk(0, 0.5, 0.1));
    const startSec = context.starts[0]!.startSec;
    // Scheduled but still in the output pipeline: nothing heard yet.
    context.currentTime = startSec + 0.02;
    player.tick();
    expect(reports).toEqual([]);
    expect(player.isAudible(player.audibleTimeSec())).toBe(false);
    // currentTime - outputLatency passes the start: the first sample is reaching the ears.
    context.currentTime = startSec + 0.031;
    player.tick();
    expect(reports).toMatchObject([{ type: 'playback.progress', turnId: 't', seq: 0, started: true, playedMs: 1 }]);
    expect(player.isAudible(player.audibleTimeSec())).toBe(true);
    context.currentTime = startSec + 0.03 + 0.5;
    player.tick();
    expect(reports.at(-1)).toMatchObject({ seq: 0, playedMs: 500, ended: true });
    expect(player.chunksPlayed).toBe(1);
  });

  it('names the turn being heard from its first sample to the end of its last chunk, not once stopped', () => {
    const { context, player } = setup();
    player.enqueue(chunk(0, 0.5, 0.1));
    player.enqueue(chunk(1, 0.5, 0.1));
    const startSec = context.starts[0]!.startSec;
    context.currentTime = startSec + 0.02;
    player.tick();
    expect(player.audibleTurnId()).toBeNull();
    // Heard, and between its chunks too.
    for (const atSec of [0.05, 0.53, 0.9]) {
      context.currentTime = startSec + atSec;
      player.tick();
      expect(player.audibleTurnId()).toBe('t');
    }
    context.currentTime = startSec + 1.1;
    player.tick();
    expect(player.audibleTurnId()).toBeNull();

    const stopped = setup();
    stopped.player.enqueue(chunk(0, 1, 0.1));
    stopped.context.currentTime = stopped.context.starts[0]!.startSec + 0.3;
    stopped.player.tick();
    expect(stopped.player.audibleTurnId()).toBe('t');
    stopped.player.stop('t');
    expect(stopped.player.audibleTurnId()).toBeNull();
  });

  it('keys lip-sync to the same clock as the audio', () => {
    const { context, lipSync, player } = setup();
    player.enqueue(chunk(0, 0.5, 0.1));
    const startSec = context.starts[0]!.startSec;
    context.currentTime = startSec + 0.25 + context.outputLatency;
    expect(lipSync.sample(player.audibleTimeSec()).viseme).toBe('aa');
    context.currentTime = startSec + 0.9 + context.outputLatency;
    expect(lipSync.sample(player.audibleTimeSec()).viseme).toBe('sil');
  });

  it('fades out within a few ms on stop and ignores the turn afterwards', () => {
    const { context, reports, player } = setup();
    player.enqueue(chunk(0, 1, 0.1));
    const startSec = context.starts[0]!.startSec;
    context.currentTime = startSec + 0.3;
    player.tick();
    player.stop('t');
    const ramp = context.gains[0]!.ramps.find(([kind]) => kind === 'ramp')!;
    expect(ramp[1]).toBe(0);
    expect(ramp[2] - context.currentTime).toBeLessThanOrEqual(0.01);
    expect(context.starts[0]!.stopSec! - context.currentTime).toBeLessThanOrEqual(0.01);
    // The final report says how much will have been heard: everything rendered up to the fade's end.
    expect(reports.at(-1)).toMatchObject({ seq: 0 });
    expect(reports.at(-1)!.ended).toBeUndefined();
    expect(reports.at(-1)!.playedMs).toBeGreaterThanOrEqual(300);
    expect(reports.at(-1)!.playedMs).toBeLessThanOrEqual(310);
    player.enqueue(chunk(1, 0.5, 0.2));
    expect(context.starts).toHaveLength(1);
    expect(player.isAudible(player.audibleTimeSec())).toBe(false);
  });

  it('stopping a turn already heard to its end leaves the lips of the reply after it', () => {
    const { context, lipSync, player } = setup();
    player.enqueue(chunk(0, 0.5, 0.1));
    const firstStart = context.starts[0]!.startSec;
    context.currentTime = firstStart + 0.6;
    player.tick();
    player.enqueue({ ...chunk(0, 1, 0.2), turnId: 'u' });
    const secondStart = context.starts[1]!.startSec;
    context.currentTime = secondStart + 0.2;
    player.tick();
    player.stop('t');
    context.currentTime = secondStart + 0.5 + context.outputLatency;
    expect(lipSync.sample(player.audibleTimeSec()).viseme).toBe('aa');
    // Stopping the reply being heard still closes the mouth.
    player.stop('u');
    context.currentTime = secondStart + 0.8 + context.outputLatency;
    expect(lipSync.sample(player.audibleTimeSec()).viseme).toBe('sil');
  });

  it('ducks the voice within one frame while the user speaks over it, and brings it back without skipping audio', () => {
    const { context, player } = setup();
    player.enqueue(chunk(0, 1, 0.1));
    context.currentTime = context.starts[0]!.startSec + 0.2;
    player.duck('t', true);
    const down = context.gains[0]!.ramps.filter(([kind]) => kind === 'ramp').at(-1)!;
    expect(down[1]).toBeGreaterThan(0);
    expect(down[1]).toBeLessThan(0.5);
    expect(down[2] - context.currentTime).toBeLessThanOrEqual(1 / 30);
    player.duck('t', false);
    const up = context.gains[0]!.ramps.filter(([kind]) => kind === 'ramp').at(-1)!;
    expect(up[1]).toBe(1);
    // Nothing was stopped or dropped: the chunk plays on, the next one follows it.
    expect(context.starts[0]!.stopSec).toBeUndefined();
    player.enqueue(chunk(1, 0.5, 0.2));
    expect(context.starts).toHaveLength(2);
  });
});

