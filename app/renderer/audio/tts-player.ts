import type { ClientMessage, ServerMessage } from '../../shared/messages.contract';
import type { LipSync } from '../lipsync/lipsync';

type TtsChunk = Extract<ServerMessage, { type: 'tts.chunk' }>;
type PlaybackProgress = Extract<ClientMessage, { type: 'playback.progress' }>;

/** Scheduling lead for the first chunk after silence: enough for the audio thread to see it. */
const LEAD_SEC = 0.02;
/** Fade-out on stop; a few ms avoids a click without audible delay. */
const FADE_SEC = 0.006;
/** The avatar's voice while the user speaks over it: about −12 dB, still audible. */
const DUCKED_GAIN = 0.25;
const DUCK_RAMP_SEC = 0.03;
/** A chunk waiting for a missing earlier `seq` plays anyway after this long. */
const MISSING_SEQ_TIMEOUT_MS = 1500;
const PROGRESS_EVERY_MS = 200;

interface ScheduledChunk {
  seq: number;
  source: AudioBufferSourceNode;
  /** Context times of the chunk's first sample and of the end of its last one. */
  startSec: number;
  endSec: number;
  durationMs: number;
  started: boolean;
  ended: boolean;
  lastReportMs: number;
}

interface TurnPlayback {
  sessionId: string;
  turnId: string;
  gain: GainNode;
  nextSeq: number;
  waiting: Map<number, TtsChunk>;
  waitingSinceMs: number;
  scheduled: ScheduledChunk[];
  stopped: boolean;
}

/**
 * Plays TTS chunks gap-free in `seq` order on the AudioContext clock, feeds their phoneme
 * timelines to lip-sync on the same clock, fades out on stop, and reports what was heard.
 */
export class TtsPlayer {
  readonly context: AudioContext;
  private readonly turns = new Map<string, TurnPlayback>();
  /** Turns cut off by stop: their late chunks must stay silent. */
  private readonly stoppedTurnIds = new Set<string>();
  /** Context time where the last scheduled chunk ends (the next chunk starts there). */
  private playheadSec = 0;
  private chunksPlayedCount = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Extra outputs (the share's MediaStreamAudioDestinationNode) that hear what the speakers hear. */
  private readonly outputTaps = new Set<AudioNode>();

  /** `context` defaults to a new interactive AudioContext; tests pass a fake clock. */
  constructor(
    private readonly lipSync: LipSync,
    private readonly report: (message: PlaybackProgress) => void,
    context?: AudioContext,
  ) {
    this.context = context ?? new AudioContext({ latencyHint: 'interactive' });
    this.timer = setInterval(() => this.tick(), 20);
  }

  /** Output latency: the time from a sample's context time to the speaker. */
  get outputLatencySec(): number {
    const latency = this.context.outputLatency;
    return Number.isFinite(latency) && latency > 0 ? latency : this.context.baseLatency || 0;
  }

  /**
   * The context time of the sample reaching the ears right now: `currentTime` is what the audio
   * thread renders, which is heard `outputLatency` later. Schedules are in the same units, so a
   * chunk started at `startSec` is heard when this reaches `startSec`.
   */
  audibleTimeSec(): number {
    return this.context.currentTime - this.outputLatencySec;
  }

  /** Number of chunks that have played to their end. */
  get chunksPlayed(): number {
    return this.chunksPlayedCount;
  }

  /** True when some chunk is audible at `audibleSec`. */
  isAudible(audibleSec: number): boolean {
    for (const turn of this.turns.values()) {
      for (const chunk of turn.scheduled) {
        if (!turn.stopped && audibleSec >= chunk.startSec && audibleSec < chunk.endSec) return true;
      }
    }
    return false;
  }

  /**
   * The turn whose reply is being heard now: its audio has reached the ears and more of it is still
   * to come (the engine may have ended the turn already: generation is done before playback is).
   */
  audibleTurnId(audibleSec = this.audibleTimeSec()): string | null {
    for (const turn of this.turns.values()) {
      if (turn.stopped || !turn.scheduled.some((chunk) => chunk.started)) continue;
      if (turn.scheduled.some((chunk) => audibleSec < chunk.endSec)) return turn.turnId;
    }
    return null;
  }

  /** True when audio of `turnId` has reached the ears. */
  hasStarted(turnId: string): boolean {
    return this.turns.get(turnId)?.scheduled.some((chunk) => chunk.started) ?? false;
  }

  /** True when scheduled audio is still to be heard. */
  hasPendingAudio(audibleSec: number): boolean {
    return audibleSec < this.playheadSec;
  }

  /** Resumes the context (browsers start it suspended until a user gesture). */
  resume(): void {
    if (this.context.state === 'suspended') void this.context.resume();
  }

  enqueue(chunk: TtsChunk): void {
    this.resume();
    if (this.stoppedTurnIds.has(chunk.turnId)) return;
    const turn = this.turnFor(chunk);
    if (chunk.seq < turn.nextSeq) return;
    if (turn.waiting.size === 0) turn.waitingSinceMs = performance.now();
    turn.waiting.set(chunk.seq, chunk);
    this.drain(turn);
  }

  /**
   * Lowers the turn's voice while the user speaks over it (or brings it back): a ramp of one audio
   * quantum's order, so it is heard at once without a click. Nothing is skipped while ducked.
   */
  duck(turnId: string, ducked: boolean): void {
    const turn = this.turns.get(turnId);
    if (!turn || turn.stopped) return;
    const now = this.context.currentTime;
    turn.gain.gain.cancelScheduledValues(now);
    turn.gain.gain.setValueAtTime(turn.gain.gain.value, now);
    turn.gain.gain.linearRampToValueAtTime(ducked ? DUCKED_GAIN : 1, now + DUCK_RAMP_SEC);
  }

  /** Fades the turn out within a few ms and forgets what has not been heard yet. */
  stop(turnId: string): void {
    this.stoppedTurnIds.add(turnId);
    const turn = this.turns.get(turnId);
    if (!turn || turn.stopped) return;
    turn.stopped = true;
    turn.waiting.clear();
    const now = this.context.currentTime;
    turn.gain.gain.cancelScheduledValues(now);
    turn.gain.gain.setValueAtTime(turn.gain.gain.value, now);
    turn.gain.gain.linearRampToValueAtTime(0, now + FADE_SEC);
    const cutSec = now + FADE_SEC;
    // The lip track is one timeline for every turn: cut it only where this turn still had audio to
    // come. Stopping a turn already heard to its end must not close the mouth on the reply after it.
    const stillToCome = turn.scheduled.some((chunk) => chunk.endSec > now);
    for (const chunk of turn.scheduled) {
      chunk.source.stop(now + FADE_SEC);
      if (chunk.started && !chunk.ended) {
        chunk.ended = true;
        const playedMs = Math.min(chunk.durationMs, Math.max(0, (cutSec - chunk.startSec) * 1000));
        this.send(turn, chunk, { playedMs });
      }
    }
    if (stillToCome) this.lipSync.cut(cutSec);
    this.playheadSec = Math.min(this.playheadSec, now + FADE_SEC);
  }

  /** Feeds the avatar's voice also into `node` (same context and clock as the lip-sync); returns the undo. */
  addOutputTap(node: AudioNode): () => void {
    this.outputTaps.add(node);
    for (const turn of this.turns.values()) turn.gain.connect(node);
    return () => {
      this.outputTaps.delete(node);
      for (const turn of this.turns.values()) turn.gain.disconnect(node);
    };
  }

  dispose(): void {
    clearInterval(this.timer);
    void this.context.close();
  }

  private turnFor(chunk: TtsChunk): TurnPlayback {
    let turn = this.turns.get(chunk.turnId);
    if (!turn) {
      const gain = this.context.createGain();
      gain.connect(this.context.destination);
      for (const tap of this.outputTaps) gain.connect(tap);
      turn = {
        sessionId: chunk.sessionId,
        turnId: chunk.turnId,
        gain,
        nextSeq: 0,
        waiting: new Map(),
        waitingSinceMs: 0,
        scheduled: [],
        stopped: false,
      };
      this.turns.set(chunk.turnId, turn);
    }
    return turn;
  }

  private drain(turn: TurnPlayback): void {
    for (let chunk = turn.waiting.get(turn.nextSeq); chunk; chunk = turn.waiting.get(turn.nextSeq)) {
      turn.waiting.delete(turn.nextSeq);
      turn.nextSeq += 1;
      this.schedule(turn, chunk);
      turn.waitingSinceMs = performance.now();
    }
  }

  private schedule(turn: TurnPlayback, chunk: TtsChunk): void {
    if (chunk.pcm.length === 0) return;
    const buffer = this.context.createBuffer(1, chunk.pcm.length, chunk.sampleRateHz);
    buffer.copyToChannel(new Float32Array(chunk.pcm), 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(turn.gain);
    const startSec = Math.max(this.playheadSec, this.context.currentTime + LEAD_SEC);
    source.start(startSec);
    this.playheadSec = startSec + buffer.duration;
    turn.scheduled.push({
      seq: chunk.seq,
      source,
      startSec,
      endSec: startSec + buffer.duration,
      durationMs: buffer.duration * 1000,
      started: false,
      ended: false,
      lastReportMs: 0,
    });
    // Lip-sync keys share the schedule's units; sampling them at audibleTimeSec() moves the mouth with the ears.
    this.lipSync.schedule(chunk.phonemes, startSec, { turnId: turn.turnId, seq: chunk.seq });
  }

  /** Reports progress against the audible clock and releases chunks stuck behind a lost `seq`. */
  tick(): void {
    const audible = this.audibleTimeSec();
    const nowMs = performance.now();
    for (const [turnId, turn] of this.turns) {
      if (!turn.stopped && turn.waiting.size > 0 && nowMs - turn.waitingSinceMs > MISSING_SEQ_TIMEOUT_MS) {
        turn.nextSeq = Math.min(...turn.waiting.keys());
        this.drain(turn);
      }
      for (const chunk of turn.scheduled) {
        if (chunk.ended || turn.stopped) continue;
        if (audible >= chunk.endSec) {
          chunk.ended = true;
          this.chunksPlayedCount += 1;
          this.send(turn, chunk, { playedMs: chunk.durationMs, started: chunk.started ? undefined : true, ended: true });
        } else if (audible >= chunk.startSec) {
          const playedMs = (audible - chunk.startSec) * 1000;
          if (!chunk.started) {
            chunk.started = true;
            chunk.lastReportMs = nowMs;
            this.send(turn, chunk, { playedMs, started: true });
          } else if (nowMs - chunk.lastReportMs >= PROGRESS_EVERY_MS) {
            chunk.lastReportMs = nowMs;
            this.send(turn, chunk, { playedMs });
          }
        }
      }
      const done = turn.stopped || (turn.scheduled.every((chunk) => chunk.ended) && turn.waiting.size === 0);
      if (done && audible > this.playheadSec + 5) {
        turn.gain.disconnect();
        this.turns.delete(turnId);
      }
    }
  }

  private send(turn: TurnPlayback, chunk: ScheduledChunk, fields: { playedMs: number; started?: boolean; ended?: boolean }): void {
    const message: PlaybackProgress = {
      type: 'playback.progress',
      sessionId: turn.sessionId,
      turnId: turn.turnId,
      seq: chunk.seq,
      playedMs: Math.round(fields.playedMs),
    };
    if (fields.started) message.started = true;
    if (fields.ended) message.ended = true;
    this.report(message);
  }
}
