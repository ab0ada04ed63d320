import type { ExportFormat } from '../../shared/conversation.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { MAX_LOADED_ENTRIES, REPLY_OF, type ServerMessage, type VisionGreetReason } from '../../shared/messages.contract';
import type { TurnSource, TurnTrace } from '../../shared/trace.contract';
import type { ChatMessage, VadTune } from '../../shared/worker.contract';
import { AsyncQueue } from '../pipeline/async-queue';
import { leaseSttIfIdle, sttStage, transcribeOnLease, type Utterance } from '../pipeline/stt.stage';
import { vadStage, type MicFrame } from '../pipeline/vad.stage';
import { once } from '../pipeline/stage';
import type { WorkerPool } from '../pool/worker-pool';
import type { EngineConfig } from '../engine-config';
import { Endpointer, type EndedUtterance, type EndOfTurnConfig, type EndOfTurnVerdict, type EndpointerHooks, type ProvisionalEnd, type UtteranceInfo } from './endpointer';
import { textEndCue } from './text-end-cue';
import { EnergyOnset } from './energy-onset';
import { BACKCHANNEL_PROMPT, hasWords, isBackchannel } from './backchannel';
import { Turn } from './turn';
import type { Conversation, ConversationJournal } from './conversation-journal';
import { exportConversation } from './conversation-export';
import { restoredHistory } from './llm-window';
import { greetingCue, visionNote } from './vision-note';
import type { VisionSummary } from '../../shared/vision.contract';

const MIC_RATE_HZ = 16000;
/** The user hears about dropped mic audio at most this often. */
const DROP_REPORT_INTERVAL_MS = 5_000;
/** An end-of-turn verdict that cannot start within this counts as finished: the VAD's silence decides, as without the model. */
const END_OF_TURN_LEASE_MS = 300;
/**
 * The VAD's end silence in smart mode while the avatar is audible (speech over it is judged by its
 * words, not the end-of-turn model): the turn_taking bench's interruptions were tuned with 120 ms;
 * the turns' shorter silence (64 ms) missed two "Wait, stop."-like clips over the avatar.
 */
const OVERLAP_VAD_SILENCE_MS = 120;
/**
 * Speech over the avatar that pauses is kept open this long (from its speech end) for more words:
 * piper's "Wait, … stop." leaves 300–340 ms between its words, and 250 ms split it into two
 * sounds too short to count (a missed interruption in every turn_taking run).
 */
const OVERLAP_HOLD_MS = 400;
/** With whisper's question mark on the words, the voice needs only this much to end the turn. */
const QUESTION_COMPLETE_THRESHOLD = 0.2;
/**
 * A question the voice still calls unfinished is waited on this long after the speech (not the full
 * maxPauseMs): long enough for a quick "… about cats?" to follow, short enough that a finished
 * question the model misreads is answered within a second.
 */
const QUESTION_MAX_PAUSE_MS = 600;
/** Words in a transcript (whisper's punctuation apart). */
function wordCount(text: string): number {
  return text.match(/[A-Za-z0-9']+/g)?.length ?? 0;
}

/** The STT run that tells a backchannel from an interruption must start within this, or it counts as an interruption. */
const DECISION_LEASE_MS = 500;
/**
 * A duck pre-triggered by loudness alone is withdrawn unless silero hears voice within this much
 * audio after it: silero needs up to 150 ms (and two 32 ms windows) on a soft first consonant
 * ("Sure", "Stop", "Hold on" in the turn_taking bench's voices).
 */
const ENERGY_ONSET_CONFIRM_MS = 250;

/** What the session keeps about the utterance in progress, beside the endpointer's audio. */
interface SpeechState {
  utteranceId: number;
  /** The turn whose voice was audible when this speech started (a barge-in candidate). */
  overlapped: Turn | undefined;
  /**
   * The id of the turn this utterance will become, reserved by its first partial transcript (turn
   * ids are otherwise made at speech-end), so partial and final transcripts name the same turn.
   */
  turnId: string | undefined;
  /** The partial STT run being started or in flight; aborted when the utterance ends. */
  interim: AbortController | undefined;
  /** The overlapped turn's voice is lowered while its fate is decided (smart interruptions). */
  ducked: boolean;
  /** The overlapped turn was stopped: this speech is an interruption. */
  interrupted: boolean;
}

/** The end-of-turn settings when a `turn` worker runs in smart mode; undefined: silence alone ends a turn. */
export function smartTurn(config: EngineConfig): EndOfTurnConfig | undefined {
  const detection = config.pipeline.turnDetection;
  const mode = config.vadSensitivity?.().endOfTurn ?? detection?.mode;
  if (!detection || mode !== 'smart' || !config.workers.turn || config.workers.turn.count === 0) return undefined;
  return {
    completeThreshold: detection.completeThreshold,
    maxPauseMs: detection.maxPauseMs,
    voiceAloneThreshold: detection.voiceAloneThreshold,
    voiceAloneMinSpeechMs: detection.voiceAloneMinSpeechMs,
    shortTurnWords: detection.shortTurnWords,
    shortTurnHoldMs: detection.shortTurnHoldMs,
    judgeAfterSilenceMs: detection.judgeAfterSilenceMs,
    secondLook: detection.secondLook,
  };
}

/** The interruption settings when speech over the avatar is judged (smart mode); undefined: it stops the avatar at once. */
export function smartInterruptions(config: EngineConfig): { decideWithinMs: number; loudnessOnset: boolean; primeBackchannels: boolean; holdMs: number } | undefined {
  const interruptions = config.pipeline.interruptions;
  const mode = config.vadSensitivity?.().interruptions ?? interruptions?.mode;
  if (!interruptions || mode !== 'smart') return undefined;
  return { decideWithinMs: interruptions.decideWithinMs, loudnessOnset: interruptions.loudnessOnset ?? true, primeBackchannels: interruptions.primeBackchannels ?? true, holdMs: interruptions.holdMs ?? OVERLAP_HOLD_MS };
}

/**
 * One conversation: history (system prompt first), voice, traces, and its turns one at a time.
 * Mic audio flows through the VAD stream into the endpointer; its utterances start voice turns,
 * speech while the avatar speaks stops it (barge-in). History comes from the conversation it
 * continues, and what enters history is journaled in it.
 */
export class Session {
  /** The LLM's context: replaced (never emptied in place) by a new conversation, so a turn still ending writes to its own. */
  history: ChatMessage[];
  readonly traces: TurnTrace[] = [];
  private turn: Turn | undefined;
  private turnChain: Promise<void> = Promise.resolve();
  private nextTurn = 1;
  private readonly controller = new AbortController();
  private mic: AsyncQueue<MicFrame> | undefined;
  private micStreamMs = 0;
  private readonly endpointer: Endpointer;
  private speech: SpeechState | undefined;
  /** The turn whose voice was lowered at the first syllable heard over it, before the VAD confirmed speech. */
  private onsetDucked: Turn | undefined;
  /** Loudness rises over the avatar: they lower its voice before the VAD has heard the frame. */
  private readonly energyOnset = new EnergyOnset();
  /** The duck came from loudness alone: silero must hear voice by this stream time or it is withdrawn. */
  private energyDuck: { confirmByStreamMs: number } | undefined;
  private playbackReported = false;
  /** When the user was last told that mic audio was dropped (at most once every few seconds). */
  private dropReportedMs = Number.NEGATIVE_INFINITY;
  /** Listening failed for good (no VAD configured): the user was told once; frames are ignored. */
  private listeningUnavailable = false;
  private conversation: Conversation;
  /** What the camera sees, as the page last said (null: camera off), and when it said it. */
  private vision: { summary: VisionSummary | null; atMs: number } = { summary: null, atMs: 0 };
  private stopWatchingJournal: () => void = () => undefined;

  constructor(
    readonly id: string,
    persona: string,
    readonly voice: string | undefined,
    private readonly pool: WorkerPool,
    private readonly config: EngineConfig,
    private readonly send: (message: ServerMessage) => void,
    private readonly journal: ConversationJournal,
    conversation: Conversation,
  ) {
    this.conversation = conversation;
    this.history = this.takeConversation(conversation, persona);
    const interim = config.interimTranscripts;
    this.endpointer = new Endpointer(
      {
        minBargeInSpeechMs: config.pipeline.minBargeInSpeechMs,
        minUtteranceMs: config.pipeline.minUtteranceMs,
        utterancePrerollMs: config.pipeline.utterancePrerollMs,
        maxUtteranceMs: config.pipeline.maxUtteranceMs,
        interimEveryMs: interim?.enabled && interim.sttEngines.includes(config.workers.stt.engine) ? interim.everyMs : undefined,
        // Read at each pause: the setting can switch to silence-only while the app runs.
        get endOfTurn() {
          return smartTurn(config);
        },
        get longOverlapMs() {
          return smartInterruptions(config)?.decideWithinMs;
        },
        get overlapHoldMs() {
          return smartInterruptions(config)?.holdMs;
        },
      },
      this.endpointerHooks(),
    );
  }

  /** Typed text: a turn like a spoken one; it interrupts a reply in progress. */
  userText(text: string): void {
    this.turn?.stop('user');
    const turn = this.createTurn('text', {});
    this.enqueue(turn, async () => {
      turn.announce(text);
      await turn.reply(text);
    });
  }

  /** Tells the page which conversation this is and its messages (after `session.opened`), and what was wrong with its journal. */
  announceConversation(): void {
    const conversation = this.conversation;
    this.send({
      type: REPLY_OF['conversation.new'],
      sessionId: this.id,
      conversationId: conversation.id,
      startedAtMs: conversation.startedAtMs,
      kept: conversation.kept,
      entries: conversation.entries.slice(-MAX_LOADED_ENTRIES),
    });
    if (conversation.loadWarning) this.send({ type: 'error', code: ErrorCode.JournalDamaged, message: conversation.loadWarning, recoverable: true, sessionId: this.id });
  }

  /**
   * Starts a fresh conversation (a new journal; the old one stays): the reply in progress stops,
   * history starts over at once, and the page hears of it once the new journal is on disk.
   */
  newConversation(): void {
    this.turn?.stop('user');
    this.journal.release(this.conversation);
    const conversation = this.journal.hold(this.conversation.journaled ? this.journal.startNew() : this.journal.detached());
    this.history = this.takeConversation(conversation, this.history[0]!.content);
    void conversation.flushed().then(() => {
      if (this.conversation === conversation && !this.controller.signal.aborted) this.announceConversation();
    });
  }

  /** Sends the conversation as a file (text or JSON). */
  exportConversation(format: ExportFormat): void {
    const { fileName, content } = exportConversation(this.conversation, format);
    this.send({ type: REPLY_OF['conversation.export'], sessionId: this.id, conversationId: this.conversation.id, format, fileName, content });
  }

  /** A new system prompt (the persona setting changed): the next turn's LLM request starts with it. */
  setPersona(persona: string): void {
    this.history[0] = { role: 'system', content: persona };
  }

  /** What the camera sees now (null: the camera is off): the next turns' prompts say so in a line. */
  setVision(summary: VisionSummary | null): void {
    this.vision = { summary, atMs: performance.now() };
  }

  /**
   * Someone came into the camera's view, or waved at it: the avatar greets them, unless it is
   * talking or listening already (a greeting never interrupts).
   */
  greetArrival(reason: VisionGreetReason = 'arrival'): void {
    if (this.turn?.active || this.speech) return;
    const turn = this.createTurn('camera', {});
    this.enqueue(turn, async () => {
      turn.announce();
      await turn.reply(greetingCue(reason), { record: false });
    });
  }

  /** The user asked the avatar to stop talking. */
  interrupt(): void {
    this.turn?.stop('user');
  }

  /** 16 kHz samples from the renderer's microphone, in capture order. */
  micAudio(pcm: Float32Array<ArrayBuffer>): void {
    if (this.listeningUnavailable) return;
    if (!this.mic) this.startMic();
    const frame: MicFrame = { pcm, streamMs: this.micStreamMs, receivedMs: performance.now() };
    this.micStreamMs += (pcm.length * 1000) / MIC_RATE_HZ;
    this.duckOnLoudness(frame);
    this.mic!.push(frame);
  }

  playbackProgress(turnId: string, seq: number, playedMs: number, started: boolean, ended: boolean): void {
    this.playbackReported = true;
    if (this.turn?.id === turnId) this.turn.onPlayback(seq, playedMs, started, ended);
  }

  /** Ends the session: its turn stops, the mic loop ends, its workers forget it. */
  async close(): Promise<void> {
    // Let go of the conversation at once: a page reloaded right after continues it.
    this.journal.release(this.conversation);
    this.endpointer.dispose();
    this.speech?.interim?.abort();
    this.turn?.stop('user');
    this.controller.abort();
    this.mic?.end();
    await this.turnChain;
    await this.turn?.settled();
    this.pool.endSession(this.id);
    this.stopWatchingJournal();
    await this.conversation.flushed();
  }

  /** Makes `conversation` this session's: its history (within the LLM's window) and its journal's write errors. */
  private takeConversation(conversation: Conversation, systemPrompt: string): ChatMessage[] {
    this.stopWatchingJournal();
    this.conversation = conversation;
    this.stopWatchingJournal = conversation.onWriteError((error) =>
      this.send({ type: 'error', code: error.code, message: error.message, recoverable: error.recoverable, sessionId: this.id }),
    );
    return restoredHistory(systemPrompt, conversation.entries, this.config.pipeline.maxHistoryMessages);
  }

  private reserveTurnId(): string {
    return `${this.id}-t${this.nextTurn++}`;
  }

  private createTurn(source: TurnSource, timestamps: Partial<TurnTrace>, id = this.reserveTurnId()): Turn {
    const conversation = this.conversation;
    return new Turn(id, source, {
      sessionId: this.id,
      pool: this.pool,
      config: this.config,
      voice: this.voice,
      send: this.send,
      history: this.history,
      record: (entry) => conversation.record(entry),
      onTraceUpdate: (trace) => this.keepTrace(trace),
      reportsPlayback: () => this.playbackReported,
      visionNote: () => visionNote(this.vision.summary, this.vision.atMs, performance.now()),
    }, timestamps);
  }

  /** Turns run one after another; the next starts when the previous LLM run has really stopped. */
  private enqueue(turn: Turn, body: () => Promise<void>): void {
    const previous = this.turn;
    this.turn = turn;
    this.turnChain = this.turnChain
      .then(() => previous?.settled())
      .then(async () => {
        if (this.controller.signal.aborted) return;
        await body();
      })
      .catch((error: unknown) => turn.fail(AppError.from(error)));
  }

  private keepTrace(trace: TurnTrace): void {
    const index = this.traces.findIndex((kept) => kept.turnId === trace.turnId);
    if (index >= 0) this.traces[index] = { ...trace };
    else this.traces.push({ ...trace });
    if (this.traces.length > this.config.maxTracesPerSession) this.traces.shift();
    this.send({ type: 'turn.trace', trace: { ...trace } });
  }

  private startMic(): void {
    this.mic = new AsyncQueue<MicFrame>(this.controller.signal);
    const outputs = vadStage({
      pool: this.pool,
      sessionId: this.id,
      sensitivity: () => this.vadTune(),
      onDrop: (droppedMs) => this.reportDroppedAudio(droppedMs),
    })(this.mic, this.controller.signal);
    void (async () => {
      try {
        for await (const output of outputs) {
          this.endpointer.push(output);
          this.withdrawUnconfirmedDuck(output.frame);
        }
      } catch (error) {
        if (this.controller.signal.aborted) return;
        const appError = AppError.from(error);
        this.send({ type: 'error', code: appError.code, message: `Listening stopped: ${appError.message}`, recoverable: appError.recoverable, sessionId: this.id });
        // A recoverable failure (a VAD worker restarting) resumes with the next mic frame, in a new
        // VAD stream whose times start at 0: the utterance the lost stream was judging is dropped.
        this.listeningUnavailable = !appError.recoverable;
        this.mic = undefined;
        this.micStreamMs = 0;
        this.endpointer.restart();
        this.energyOnset.reset();
        this.energyDuck = undefined;
        const speech = this.speech;
        if (speech) {
          this.setDucked(speech, false);
          this.endSpeech(speech.utteranceId);
        }
      }
    })();
  }

  /**
   * The VAD's sensitivity: the settings, and in smart end-of-turn mode a short end silence unless the
   * user set one (longer while the avatar is audible; the VAD takes a new silence between utterances).
   */
  private vadTune(): VadTune {
    const settings = this.config.vadSensitivity?.() ?? {};
    const turnSilenceMs = this.config.pipeline.turnDetection?.vadSilenceMs;
    const smartSilenceMs = turnSilenceMs !== undefined && this.turn?.audioPlayingAt(performance.now()) ? Math.max(turnSilenceMs, OVERLAP_VAD_SILENCE_MS) : turnSilenceMs;
    const minSilenceMs = settings.minSilenceMs ?? (smartTurn(this.config) ? smartSilenceMs : undefined);
    return {
      ...(settings.threshold !== undefined ? { threshold: settings.threshold } : {}),
      ...(minSilenceMs !== undefined ? { minSilenceMs } : {}),
    };
  }

  /**
   * A frame clearly louder than the background while the avatar speaks (smart interruptions): its
   * voice is lowered at once, before the VAD's round trip and silero's first windows; silero must
   * confirm it (`withdrawUnconfirmedDuck`).
   */
  private duckOnLoudness(frame: MicFrame): void {
    const rise = this.energyOnset.push(frame.pcm, frame.streamMs);
    const turn = this.turn;
    if (!rise || !turn || this.speech || this.onsetDucked || !smartInterruptions(this.config)?.loudnessOnset || !turn.audioPlayingAt(performance.now())) return;
    const frameEndStreamMs = frame.streamMs + (frame.pcm.length * 1000) / MIC_RATE_HZ;
    this.onsetDucked = turn;
    this.energyDuck = { confirmByStreamMs: frameEndStreamMs + ENERGY_ONSET_CONFIRM_MS };
    this.send({ type: 'turn.duck', sessionId: this.id, turnId: turn.id, ducked: true });
    this.config.onDiagnostic?.({ type: 'duck', sessionId: this.id, cause: 'energy', frameEndStreamMs, vadMs: 0 });
  }

  /** A loudness duck silero has not confirmed as voice in time is withdrawn (a knock, a click, the room). */
  private withdrawUnconfirmedDuck(frame: MicFrame): void {
    const pending = this.energyDuck;
    const frameEndStreamMs = frame.streamMs + (frame.pcm.length * 1000) / MIC_RATE_HZ;
    if (!pending || frameEndStreamMs < pending.confirmByStreamMs) return;
    this.energyDuck = undefined;
    this.energyOnset.withdrawn(frameEndStreamMs);
    this.config.onDiagnostic?.({ type: 'duck-withdrawn', sessionId: this.id, frameEndStreamMs });
    const turn = this.onsetDucked;
    this.onsetDucked = undefined;
    if (turn) this.send({ type: 'turn.duck', sessionId: this.id, turnId: turn.id, ducked: false });
  }

  /** Mic audio arrived faster than the VAD judges it (a flood, or a stalled worker): say so, not too often. */
  private reportDroppedAudio(droppedMs: number): void {
    const nowMs = performance.now();
    if (nowMs - this.dropReportedMs < DROP_REPORT_INTERVAL_MS) return;
    this.dropReportedMs = nowMs;
    this.send({
      type: 'error',
      code: ErrorCode.BadAudio,
      message: `Microphone audio arrives faster than it can be listened to; ${Math.round(droppedMs)} ms were skipped.`,
      recoverable: true,
      sessionId: this.id,
    });
  }

  /** The session's side of endpointing: turns, barge-in and partial transcripts. */
  private endpointerHooks(): EndpointerHooks {
    return {
      vadEvent: (event) => this.send({ type: 'vad', sessionId: this.id, event }),
      avatarSpeakingAt: (nowMs) => this.turn?.audioPlayingAt(nowMs) ?? false,
      speechStart: (utterance) => {
        const overlapped = utterance.overlapsAvatar ? this.turn : undefined;
        // A voice lowered at the first syllable stays lowered: this speech now owns it.
        const alreadyDucked = overlapped !== undefined && this.onsetDucked === overlapped;
        if (this.onsetDucked && !alreadyDucked) this.send({ type: 'turn.duck', sessionId: this.id, turnId: this.onsetDucked.id, ducked: false });
        this.onsetDucked = undefined;
        this.energyDuck = undefined;
        const speech: SpeechState = { utteranceId: utterance.id, overlapped, turnId: undefined, interim: undefined, ducked: alreadyDucked, interrupted: false };
        this.speech = speech;
        // Smart interruptions: the avatar's voice drops at once; what the user says decides the rest.
        if (overlapped && smartInterruptions(this.config) && !speech.ducked) {
          this.setDucked(speech, true);
          this.config.onDiagnostic?.({ type: 'duck', sessionId: this.id, cause: 'speech' });
        }
      },
      voiceOnset: (frame) => {
        // Silero heard voice: a duck loudness began is confirmed (and now ends like a voice onset's).
        this.energyDuck = undefined;
        const turn = this.turn;
        if (!turn || this.onsetDucked || !smartInterruptions(this.config)) return;
        this.onsetDucked = turn;
        this.send({ type: 'turn.duck', sessionId: this.id, turnId: turn.id, ducked: true });
        const frameEndStreamMs = frame.streamMs + (frame.pcm.length * 1000) / MIC_RATE_HZ;
        this.config.onDiagnostic?.({ type: 'duck', sessionId: this.id, cause: 'voice', frameEndStreamMs, vadMs: frame.receivedMs !== undefined ? performance.now() - frame.receivedMs : undefined });
      },
      voiceOnsetEnded: () => {
        if (this.energyDuck) return; // a loudness duck waits for silero's verdict (withdrawUnconfirmedDuck)
        const turn = this.onsetDucked;
        this.onsetDucked = undefined;
        if (turn) this.send({ type: 'turn.duck', sessionId: this.id, turnId: turn.id, ducked: false });
      },
      bargeIn: (utterance) => {
        if (this.speech?.utteranceId === utterance.id && !smartInterruptions(this.config)) this.interruptBy(this.speech);
      },
      longOverlap: (utterance) => {
        if (this.speech?.utteranceId === utterance.id) this.interruptBy(this.speech);
      },
      interim: (utterance, audio) => this.startInterim(utterance, audio),
      noise: (utterance) => {
        const speech = this.endSpeech(utterance.id);
        if (speech?.ducked && !speech.interrupted) this.setDucked(speech, false);
        // A partial transcript already shown for it is withdrawn by an empty final one (no turn.started follows for that id).
        if (speech?.turnId) this.send({ type: 'transcript', sessionId: this.id, turnId: speech.turnId, text: '', final: true });
      },
      utterance: (ended) => {
        if (ended.provisional) return void this.settleProvisional(ended, ended.provisional);
        const speech = this.endSpeech(ended.id);
        if (speech?.overlapped && speech.ducked && !speech.interrupted) void this.decideOverlap(ended, speech);
        else this.startVoiceTurn(ended, speech?.turnId, ended.transcript);
      },
      scoreEndOfTurn: (audio, speechMs, signal) => this.scoreEndOfTurn(audio, speechMs, signal),
    };
  }

  /** Lowers or restores the overlapped turn's voice on the page. */
  private setDucked(speech: SpeechState, ducked: boolean): void {
    if (!speech.overlapped || speech.ducked === ducked) return;
    speech.ducked = ducked;
    this.send({ type: 'turn.duck', sessionId: this.id, turnId: speech.overlapped.id, ducked });
  }

  /** The speech over the avatar is an interruption: the avatar stops (history keeps what was heard). */
  private interruptBy(speech: SpeechState): void {
    if (speech.interrupted) return;
    speech.interrupted = true;
    speech.overlapped?.stop('barge-in');
  }

  /**
   * Short speech over the avatar ended: its words decide. A backchannel ("uh-huh", "yeah", "right")
   * brings the avatar back to full volume and is not a turn; anything else stops the avatar and
   * becomes the next turn, with the transcript already made.
   */
  private async decideOverlap(ended: EndedUtterance, speech: SpeechState): Promise<void> {
    let text: string | undefined;
    try {
      const lease = await this.pool.lease('stt', this.id, AbortSignal.any([this.controller.signal, AbortSignal.timeout(DECISION_LEASE_MS)]));
      const prompt = smartInterruptions(this.config)?.primeBackchannels ? { prompt: BACKCHANNEL_PROMPT } : {};
      text = await transcribeOnLease(lease, { pcm: ended.pcm, sampleRateHz: 16000 }, true, { pool: this.pool, sessionId: this.id, ...prompt }, this.controller.signal);
    } catch {
      // No words in time: an interruption is the safe reading (the user can say it again; a stuck voice is worse).
    }
    if (this.controller.signal.aborted) return;
    // No words at all (a cough, a laugh) is no interruption either.
    if (text !== undefined && (!hasWords(text) || isBackchannel(text))) {
      this.setDucked(speech, false);
      this.config.onDiagnostic?.({ type: 'backchannel', sessionId: this.id, text });
      return;
    }
    this.interruptBy(speech);
    this.startVoiceTurn(ended, speech.turnId, text);
  }

  /**
   * A pause: did the user finish? The end-of-turn model hears the voice while STT transcribes the
   * turn so far, side by side on the two workers; the words can overrule the voice ("…about the" is
   * never finished; a question mark needs less certainty). The transcript is what the turn needs
   * first anyway, so waiting for it costs the reply nothing; without an STT worker free at once, the
   * voice decides alone. `signal`: the user went on; the judging stops (its words too) and says nothing.
   */
  private async scoreEndOfTurn(audio: Float32Array<ArrayBuffer>, speechMs: number, signal: AbortSignal): Promise<EndOfTurnVerdict> {
    const startedMs = performance.now();
    const settings = smartTurn(this.config);
    const words = this.transcribeAtPause(audio, signal);
    const completeProbability = await this.scoreVoice(audio, signal).catch((error: unknown) => {
      words.cancel();
      throw error;
    });
    signal.throwIfAborted();
    const voiceAlone = settings?.voiceAloneThreshold;
    if (voiceAlone !== undefined && completeProbability >= voiceAlone && speechMs >= (settings?.voiceAloneMinSpeechMs ?? 0) && !words.settled()) {
      // The voice is sure and the words are not in: the turn ends now, provisionally (the words confirm it when they come).
      this.config.onDiagnostic?.({ type: 'pause-judged', sessionId: this.id, complete: true, completeProbability, textCue: 'voice-alone', ms: performance.now() - startedMs });
      return { complete: true, completeProbability, transcriptLater: words.text };
    }
    const transcript = await words.text;
    signal.throwIfAborted();
    return this.judgeWords(completeProbability, transcript, startedMs);
  }

  /**
   * The voice's verdict with the words heard up to the pause: the words can overrule it ("…about the"
   * is never finished, a question mark needs less certainty, a few words are often a run-up).
   */
  private judgeWords(completeProbability: number, transcript: string | undefined, startedMs: number, textCueOf?: 'confirm'): EndOfTurnVerdict {
    const settings = smartTurn(this.config);
    const threshold = settings?.completeThreshold ?? 0.5;
    const cue = transcript === undefined ? 'none' : textEndCue(transcript);
    // No words yet (whisper heard none): nothing to answer; the pause is waited out for more.
    const complete = cue === 'continues' || (transcript !== undefined && !hasWords(transcript)) ? false : completeProbability >= (cue === 'question' ? Math.min(threshold, QUESTION_COMPLETE_THRESHOLD) : threshold);
    // A few finished words are often a run-up ("Let me think.", "Can you tell me?"): a short wait for more.
    const shortWords = settings?.shortTurnWords ?? 0;
    const shortHoldMs = settings?.shortTurnHoldMs;
    const short = complete && shortWords > 0 && shortHoldMs !== undefined && transcript !== undefined && wordCount(transcript) <= shortWords;
    const textCue = transcript === undefined ? 'no-words' : short ? 'short-turn' : cue;
    this.config.onDiagnostic?.({ type: 'pause-judged', sessionId: this.id, complete: complete && !short, completeProbability, textCue: textCueOf ? `words-${textCue}` : textCue, ms: performance.now() - startedMs });
    if (short) return { complete: false, completeProbability, transcript, maxPauseMs: shortHoldMs };
    return { complete, completeProbability, transcript, ...(cue === 'question' ? { maxPauseMs: QUESTION_MAX_PAUSE_MS } : {}) };
  }

  /**
   * A turn ended before the VAD's silence ran out, or by the voice before its words were in: it
   * stands once the words agree and the VAD's silence has run out too (a gap between words ends
   * sooner), and only then starts (turn.started, the reply). Words that say the user goes on hold
   * the pause open again; the voice coming back first withdraws it in the endpointer. Either way
   * nothing was sent and the utterance goes on.
   */
  private async settleProvisional(ended: EndedUtterance, provisional: ProvisionalEnd): Promise<void> {
    const startedMs = performance.now();
    // A partial run in flight yields to the pause's words; the speech stays this utterance's until the end stands.
    this.speech?.interim?.abort();
    const withdrawn = new Promise<'withdrawn'>((resolve) => provisional.signal.addEventListener('abort', () => resolve('withdrawn'), { once: true }));
    // Words already judged with the voice need no second look.
    const known = ended.transcript;
    const words = known ?? (await Promise.race([ended.transcriptLater ?? Promise.resolve(undefined), withdrawn]));
    if (words === 'withdrawn' || this.controller.signal.aborted) return this.withdrawn('voice');
    // No words from the pause's run (STT busy or failed): the turn transcribes itself once it stands.
    const verdict = words === undefined || known !== undefined ? undefined : this.judgeWords(provisional.completeProbability, words, startedMs, 'confirm');
    if (verdict && !verdict.complete) return this.reopen(ended.id, verdict, words, 'words');
    if ((await Promise.race([provisional.silence, withdrawn])) === 'withdrawn' || this.controller.signal.aborted) return this.withdrawn('voice');
    if (provisional.beforeVad && smartTurn(this.config)?.secondLook) {
      // The voice again, now with the silence after it (as the model was trained: "What I really
      // want." sounded finished 20 ms after its last word, not 200 ms after).
      const again = await Promise.race([this.scoreVoice(provisional.audioSoFar(), provisional.signal).catch(() => undefined), withdrawn]);
      if (again === 'withdrawn' || this.controller.signal.aborted) return this.withdrawn('voice');
      // No words: judged by the voice alone (judgeWords with none).
      const second = again === undefined ? undefined : this.judgeWords(again, words, startedMs, 'confirm');
      if (second && !second.complete) return this.reopen(ended.id, second, words, 'second-look');
    }
    this.endpointer.confirm(ended.id);
    const speech = this.endSpeech(ended.id);
    this.startVoiceTurn({ ...ended, transcriptLater: undefined }, speech?.turnId, words);
  }

  /** A provisional end the words or the second look call unfinished: the pause is held open for the verdict's wait. */
  private reopen(utteranceId: number, verdict: EndOfTurnVerdict, words: string | undefined, cause: 'words' | 'second-look'): void {
    this.endpointer.reopen(utteranceId, verdict.maxPauseMs ?? smartTurn(this.config)?.maxPauseMs ?? 0, words);
    this.withdrawn(cause);
  }

  private withdrawn(cause: 'voice' | 'words' | 'second-look'): void {
    this.config.onDiagnostic?.({ type: 'end-withdrawn', sessionId: this.id, cause });
  }

  /** The turn so far, transcribed when an STT worker is free right now; undefined when none is, or the run fails. */
  private transcribeAtPause(audio: Float32Array<ArrayBuffer>, signal: AbortSignal): { text: Promise<string | undefined>; cancel(): void; settled(): boolean } {
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    let settled = false;
    const text = (async () => {
      const lease = await leaseSttIfIdle(this.pool, this.id);
      if (!lease) return undefined;
      return transcribeOnLease(lease, { pcm: audio, sampleRateHz: 16000 }, true, { pool: this.pool, sessionId: this.id }, AbortSignal.any([this.controller.signal, controller.signal]));
    })()
      .catch(() => undefined)
      .finally(() => {
        settled = true;
      });
    return { text, cancel: () => controller.abort(), settled: () => settled };
  }

  /** The end-of-turn model's verdict on the turn so far (the last 8 s count); rejects when no worker answers in time. */
  private async scoreVoice(audio: Float32Array<ArrayBuffer>, signal: AbortSignal): Promise<number> {
    const startedMs = performance.now();
    const lease = await this.pool.lease('turn', this.id, AbortSignal.any([this.controller.signal, signal, AbortSignal.timeout(END_OF_TURN_LEASE_MS)]));
    try {
      const maxSamples = 8 * MIC_RATE_HZ;
      const pcm = audio.length > maxSamples ? audio.slice(audio.length - maxSamples) : audio;
      const verdict = await lease.worker.run({ kind: 'turn', sampleRateHz: 16000, pcm }, { signal: this.controller.signal });
      this.config.onDiagnostic?.({ type: 'end-of-turn', sessionId: this.id, completeProbability: verdict.completeProbability, ms: performance.now() - startedMs });
      return verdict.completeProbability;
    } finally {
      lease.release();
    }
  }

  /** The utterance ended: a partial run still in flight is cancelled so the final run starts at once. */
  private endSpeech(utteranceId: number): SpeechState | undefined {
    const speech = this.speech?.utteranceId === utteranceId ? this.speech : undefined;
    this.speech = undefined;
    if (speech?.interim) {
      speech.interim.abort();
      this.config.onDiagnostic?.({ type: 'interim-stt-cancelled', sessionId: this.id, turnId: speech.turnId });
    }
    return speech;
  }

  /** A partial transcript of the speech so far, when the STT worker is free right now; false when not started. */
  private startInterim(utterance: UtteranceInfo, audio: () => Float32Array<ArrayBuffer>): boolean {
    const speech = this.speech;
    if (!speech || speech.utteranceId !== utterance.id || speech.interim) return false;
    const controller = new AbortController();
    speech.interim = controller;
    const current = (): boolean => !controller.signal.aborted && this.speech === speech;
    void (async () => {
      try {
        const lease = await leaseSttIfIdle(this.pool, this.id);
        if (!lease) return; // Busy (another session's turn): the next frames try again.
        if (!current()) {
          lease.release();
          return;
        }
        const input: Utterance = { pcm: audio(), sampleRateHz: 16000 };
        const text = await transcribeOnLease(lease, input, false, { pool: this.pool, sessionId: this.id }, controller.signal);
        // The utterance ended (its final transcript comes from its own run) or the session closed: too late.
        if (!current() || !text) return;
        speech.turnId ??= this.reserveTurnId();
        this.send({ type: 'transcript', sessionId: this.id, turnId: speech.turnId, text, final: false });
      } catch {
        // A failed or cancelled partial is only a missed preview: the final run reports real failures.
      } finally {
        if (speech.interim === controller) speech.interim = undefined;
      }
    })();
    return true;
  }

  private startVoiceTurn(ended: EndedUtterance, reservedTurnId: string | undefined, knownTranscript?: string): void {
    this.turn?.stop('user');
    const turn = this.createTurn('voice', { speechStartMs: ended.speechStartMs, speechEndMs: ended.speechEndMs, endpointMs: ended.endpointMs }, reservedTurnId);
    this.enqueue(turn, async () => {
      turn.announce();
      const input: Utterance = { pcm: ended.pcm, sampleRateHz: 16000 };
      // The pause's transcription, when the turn ended before it was done, is this turn's STT.
      const later = knownTranscript === undefined ? await ended.transcriptLater : undefined;
      let text = knownTranscript ?? later ?? '';
      if (knownTranscript === undefined && later === undefined) for await (const transcript of sttStage({ pool: this.pool, sessionId: this.id })(once(input), turn.signal)) text = transcript;
      // Whisper's punctuation or letter runs on a short sound are no words.
      if (!hasWords(text)) text = '';
      turn.trace.sttFinalMs = performance.now();
      this.send({ type: 'transcript', sessionId: this.id, turnId: turn.id, text, final: true });
      // No words (a cough, a laugh, a door): dropped quietly, it was not a question.
      if (text) await turn.reply(text);
      else turn.dismiss();
    });
  }
}
