import { describe, expect, it, vi } from 'vitest';
import { Endpointer, type EndedUtterance, type EndOfTurnVerdict, type EndpointerConfig, type UtteranceInfo } from '../../app/engine/conversation/endpointer';
import type { VadOutput } from '../../app/engine/pipeline/vad.stage';

/** The endpointer alone: VAD outputs in, speech start / interim / barge-in / utterance / noise out. */

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz

const CONFIG: EndpointerConfig = { minBargeInSpeechMs: 100, minUtteranceMs: 100, utterancePrerollMs: 60, maxUtteranceMs: 2_000, interimEveryMs: 200, endOfTurn: undefined, longOverlapMs: undefined, overlapHoldMs: undefined };

type Event = { type: string; utterance?: UtteranceInfo; ended?: EndedUtterance; vad?: string; signal?: AbortSignal; speechMs?: number };

function harness(config: Partial<EndpointerConfig> = {}, avatarSpeaking = false, interimAccepts = true, verdicts: Array<number | EndOfTurnVerdict> = []) {
  const events: Event[] = [];
  const endpointer = new Endpointer(
    { ...CONFIG, ...config },
    {
      vadEvent: (vad) => events.push({ type: 'vad', vad }),
      avatarSpeakingAt: () => avatarSpeaking,
      speechStart: (utterance) => events.push({ type: 'speechStart', utterance }),
      bargeIn: (utterance) => events.push({ type: 'bargeIn', utterance }),
      interim: (utterance) => {
        events.push({ type: 'interim', utterance });
        return interimAccepts;
      },
      utterance: (ended) => events.push({ type: 'utterance', ended }),
      noise: (utterance) => events.push({ type: 'noise', utterance }),
      scoreEndOfTurn: async (_audio, speechMs, signal) => {
        events.push({ type: 'score', signal, speechMs });
        const verdict = verdicts.shift() ?? 1;
        if (typeof verdict !== 'number') return verdict;
        return { complete: verdict >= 0.5, completeProbability: verdict, transcript: `words ${verdict}` };
      },
      voiceOnset: () => events.push({ type: 'voiceOnset' }),
      voiceOnsetEnded: () => events.push({ type: 'voiceOnsetEnded' }),
      pauseKept: (utterance) => events.push({ type: 'pauseKept', utterance }),
    },
  );
  let streamMs = 0;
  /** Pushes `count` 20 ms frames of `amplitude`, the VAD saying `speech` (events on the first frame). */
  const frames = (count: number, amplitude: number, probability: number, firstEvents: VadOutput['events'] = []): void => {
    for (let i = 0; i < count; i++) {
      const pcm = new Float32Array(FRAME_SAMPLES).fill(amplitude);
      endpointer.push({ frame: { pcm, streamMs }, events: i === 0 ? firstEvents : [], probability });
      streamMs += 20;
    }
  };
  return { endpointer, events, frames, streamMs: () => streamMs };
}

describe('endpointer', () => {
  it('turns speech between speech-start and speech-end into one utterance with the pre-roll in front', () => {
    const { events, frames } = harness({ interimEveryMs: undefined });
    frames(10, 0.001, 0); // 200 ms of quiet: the last 60 ms are kept as pre-roll
    frames(25, 0.3, 1, [{ event: 'speech-start', atMs: 200 }]); // 500 ms of speech
    frames(5, 0.001, 1); // hangover
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 800 }]);
    expect(events.map((event) => event.vad ?? event.type)).toEqual(['speech-start', 'speechStart', 'speech-end', 'utterance']);
    const ended = events.at(-1)!.ended!;
    // Pre-roll (3 frames), the speech, the hangover and the end frame.
    expect(ended.pcm.length).toBe((3 + 25 + 5 + 1) * FRAME_SAMPLES);
    expect(ended.overlapsAvatar).toBe(false);
    expect(ended.endpointMs).toBeGreaterThanOrEqual(ended.speechEndMs);
  });

  it('reports a sound shorter than the minimum as noise, measured by loud frames, not the hangover', () => {
    const { events, frames } = harness();
    frames(3, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]); // 60 ms loud
    frames(20, 0.001, 1); // 400 ms of VAD hangover, quiet
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 480 }]);
    expect(events.map((event) => event.type).filter((type) => type !== 'vad' && type !== 'interim')).toEqual(['speechStart', 'noise']);
  });

  it('asks for a partial transcript about every interimEveryMs of speech, and again next frame when the session was busy', () => {
    const accepted = harness({ interimEveryMs: 200 });
    accepted.frames(31, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
    expect(accepted.events.filter((event) => event.type === 'interim')).toHaveLength(3); // at 200, 400, 600 ms
    const busy = harness({ interimEveryMs: 200 }, false, false);
    busy.frames(15, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
    expect(busy.events.filter((event) => event.type === 'interim').length).toBeGreaterThan(3); // every frame from 200 ms on
  });

  it('flags speech over the avatar as a barge-in once it has lasted minBargeInSpeechMs, once', () => {
    const { events, frames } = harness({}, true);
    frames(12, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
    expect(events.filter((event) => event.type === 'bargeIn')).toHaveLength(1);
    expect(events.find((event) => event.type === 'speechStart')!.utterance!.overlapsAvatar).toBe(true);
  });

  it('reports voice over the avatar at its first voiced frame, before the VAD confirms speech, and withdraws a sound that fades', () => {
    const { events, frames } = harness({ interimEveryMs: undefined }, true);
    frames(3, 0.001, 0);
    frames(1, 0.3, 1); // the first syllable: the VAD has not confirmed speech yet
    expect(events.map((event) => event.type)).toEqual(['voiceOnset']);
    frames(5, 0.3, 1); // still voiced, still unconfirmed: reported once
    frames(9, 0.001, 0); // 180 ms unvoiced: not yet given up
    expect(events.map((event) => event.type)).toEqual(['voiceOnset']);
    frames(1, 0.001, 0);
    expect(events.map((event) => event.type)).toEqual(['voiceOnset', 'voiceOnsetEnded']);
    // Confirmed speech takes over an onset: no withdrawal follows it.
    frames(2, 0.3, 1);
    frames(10, 0.3, 1, [{ event: 'speech-start', atMs: 320 }]);
    frames(10, 0.001, 0);
    expect(events.map((event) => event.type).filter((type) => type !== 'vad')).toEqual(['voiceOnset', 'voiceOnsetEnded', 'voiceOnset', 'speechStart', 'bargeIn']);
  });

  it('holds speech over the avatar open across a short pause, so "wait … stop" is one utterance, not two noises', () => {
    const { events, frames } = harness({ interimEveryMs: undefined, overlapHoldMs: 200, minBargeInSpeechMs: 300 }, true);
    frames(8, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]); // "wait": 160 ms, shorter than minBargeInSpeechMs
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 160 }]);
    frames(5, 0.001, 0); // 100 ms pause: within the hold
    frames(8, 0.3, 1, [{ event: 'speech-start', atMs: 280 }]); // "stop"
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 440 }]);
    expect(events.map((event) => event.type).filter((type) => type !== 'vad' && type !== 'voiceOnset')).toEqual(['speechStart', 'bargeIn']);
    frames(11, 0.001, 0); // the hold runs out
    const kinds = events.map((event) => event.type).filter((type) => type !== 'vad' && type !== 'voiceOnset');
    // Together the two words are long enough to count (the barge-in flag), and end as one utterance.
    expect(kinds).toEqual(['speechStart', 'bargeIn', 'utterance']);
    expect(events.at(-1)!.ended!.pcm.length).toBeGreaterThanOrEqual((8 + 1 + 5 + 8) * FRAME_SAMPLES);
  });

  it('restarts the hold when the next word is voiced before the VAD confirms it', () => {
    const { events, frames } = harness({ interimEveryMs: undefined, overlapHoldMs: 200 }, true);
    frames(15, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]); // "wait"
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 300 }]);
    frames(7, 0.001, 0); // 140 ms pause
    frames(8, 0.3, 1); // "stop" heard, not yet confirmed: the hold would have run out at 500 ms
    frames(2, 0.3, 1, [{ event: 'speech-start', atMs: 460 }]);
    frames(5, 0.3, 1);
    expect(events.filter((event) => event.type === 'utterance')).toEqual([]);
    frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 760 }]);
    frames(11, 0.001, 0);
    const utterances = events.filter((event) => event.type === 'utterance');
    expect(utterances).toHaveLength(1);
    expect(utterances[0]!.ended!.pcm.length).toBeGreaterThanOrEqual((15 + 1 + 7 + 8 + 2 + 5) * FRAME_SAMPLES);
  });

  it('reports no voice onset while the avatar is silent', () => {
    const { events, frames } = harness({}, false);
    frames(5, 0.3, 1);
    frames(10, 0.001, 0);
    expect(events).toEqual([]);
  });

  it('ends an utterance that runs past maxUtteranceMs and starts listening afresh', () => {
    const { events, frames, endpointer } = harness({ maxUtteranceMs: 400, interimEveryMs: undefined });
    frames(30, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
    expect(events.filter((event) => event.type === 'utterance')).toHaveLength(1);
    expect(endpointer.current).toBeUndefined();
  });

  describe('with an end-of-turn model', () => {
    const endOfTurn = { completeThreshold: 0.5, maxPauseMs: 300 };
    const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
    const kinds = (events: Event[]): string[] => events.map((event) => event.type).filter((type) => type !== 'vad' && type !== 'interim');

    it('ends the turn at once when the pause is judged complete', async () => {
      const { events, frames } = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      // The words transcribed to judge the pause go with the utterance: the turn need not transcribe it again.
      expect(events.at(-1)!.ended!.transcript).toBe('words 0.9');
    });

    it('keeps a pause judged mid-thought open, and the user going on continues the same utterance', async () => {
      const { events, frames } = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [0.1, 0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      frames(5, 0.001, 0); // 100 ms of pause: shorter than maxPauseMs
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 520 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 920 }]);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'pauseKept', 'score', 'utterance']);
      const ended = events.at(-1)!.ended!;
      expect(ended.pcm.length).toBeGreaterThanOrEqual((20 + 1 + 5 + 20) * FRAME_SAMPLES);
    });

    it('ends a pause judged mid-thought after maxPauseMs of frames, or of time when the microphone stops sending', async () => {
      const byFrames = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [0.1]);
      byFrames.frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      byFrames.frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      byFrames.frames(16, 0.001, 0); // 320 ms more silence
      expect(kinds(byFrames.events)).toEqual(['speechStart', 'score', 'pauseKept', 'utterance']);
      expect(byFrames.events.at(-1)!.ended!.transcript).toBe('words 0.1');

      const byTime = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [0.1]);
      byTime.frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      byTime.frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      expect(kinds(byTime.events)).toEqual(['speechStart', 'score', 'pauseKept']);
      await vi.waitFor(() => expect(kinds(byTime.events)).toEqual(['speechStart', 'score', 'pauseKept', 'utterance']), { timeout: 5_000, interval: 50 });
    });

    it('waits out an incomplete pause only as long as the verdict asks (a question the voice misreads)', async () => {
      const { events, frames } = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [{ complete: false, completeProbability: 0.1, transcript: 'What is 2+2?', maxPauseMs: 100 }]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      frames(4, 0.001, 0); // 100 ms after the speech end: maxPauseMs (300) is not over, the verdict's 100 ms is
      expect(kinds(events)).toEqual(['speechStart', 'score', 'pauseKept', 'utterance']);
      expect(events.at(-1)!.ended!.transcript).toBe('What is 2+2?');
    });

    it('keeps a pause judged mid-thought open while the next word is voiced, before the VAD confirms it as speech', async () => {
      const { events, frames } = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [{ complete: false, completeProbability: 0.1, transcript: 'Let me think.', maxPauseMs: 100 }]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      frames(2, 0.001, 0); // 60 ms of the 100 ms hold
      frames(4, 0.3, 1); // the next word's first syllable: voiced, not yet speech to the VAD
      frames(4, 0.001, 0); // 80 ms after that voice: still held
      expect(kinds(events)).toEqual(['speechStart', 'score', 'pauseKept']);
      frames(1, 0.3, 1, [{ event: 'speech-start', atMs: 460 }]); // the VAD confirms: the same utterance goes on
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 700 }]);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'pauseKept', 'score', 'utterance']);
    });

    it('judges a pause from its first unvoiced frames and ends the turn on a complete verdict, before the VAD\'s silence runs out', async () => {
      const { events, frames } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      // The first unvoiced frame (20 dB under the speech, the VAD still hearing speech): judged now.
      frames(1, 0.001, 1);
      expect(kinds(events)).toEqual(['speechStart', 'score']);
      expect(events[2]!.speechMs).toBe(400);
      // The verdict is in: the turn ends at once, with its words, provisionally until the VAD's silence ran out.
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      expect(events.at(-1)!.ended!.transcript).toBe('words 0.9');
      expect(events.at(-1)!.ended!.provisional?.completeProbability).toBe(0.9);
      // The VAD's own speech end comes later and starts nothing.
      frames(2, 0.001, 0);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      frames(3, 0.001, 0);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
    });

    it('takes voice after an early end the session confirmed before the VAD\'s speech end (its silence timed out) as new speech', async () => {
      const { events, frames, endpointer } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [0.9, 0.8]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      endpointer.confirm(events.at(-1)!.ended!.id);
      // The VAD never ended that speech, so it says no speech-start for this: the endpointer does.
      frames(10, 0.3, 1);
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'speechStart']);
      expect(events.at(-1)!.utterance!.id).toBe(events[1]!.utterance!.id + 1);
      frames(1, 0.001, 1);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'speechStart', 'score', 'utterance']);
      // The second turn holds the new speech (with the pre-roll before it), not the first one's.
      expect(events.at(-1)!.ended!.pcm.length).toBeLessThan(16 * FRAME_SAMPLES);
    });

    it('ends early only when the voice says finished: a verdict complete by its words alone waits for the VAD\'s speech end', async () => {
      const byWords: EndOfTurnVerdict = { complete: true, completeProbability: 0.3, transcript: 'What should I cook for dinner?' };
      const { events, frames } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [byWords]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score']);
      frames(3, 0.001, 0);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      expect(events.at(-1)!.ended!.transcript).toBe('What should I cook for dinner?');
    });

    it('keeps the turn open when the early verdict is "incomplete", and judges again at the VAD\'s speech end', async () => {
      const { events, frames } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [0.2]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score']);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      await flush();
      // The early verdict is this pause's: taken at the speech end, not asked again.
      expect(kinds(events)).toEqual(['speechStart', 'score', 'pauseKept']);
    });

    it('cancels a pause judged early when the voice comes back (a gap between words) and judges the next one', async () => {
      const { events, frames } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 40 }, interimEveryMs: undefined }, false, true, [0.9, 0.1]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0); // 20 ms unvoiced: shorter than judgeAfterSilenceMs
      frames(5, 0.3, 1);
      expect(kinds(events)).toEqual(['speechStart']);
      frames(2, 0.001, 0); // 40 ms unvoiced: judged…
      frames(5, 0.3, 1); // …and the voice comes back: that judging is void
      await flush();
      const first = events.find((event) => event.type === 'score')!;
      expect(first.signal!.aborted).toBe(true);
      frames(2, 0.001, 0);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 640 }]);
      await flush();
      // The second judging (0.1, mid-thought) decides: the void 0.9 never ended the turn.
      expect(kinds(events)).toEqual(['speechStart', 'score', 'score', 'pauseKept']);
      expect(events.filter((event) => event.type === 'score')[1]!.signal!.aborted).toBe(false);
    });

    it('cancels the judging of a pause when the user goes on before its verdict', async () => {
      const { events, frames } = harness({ endOfTurn, interimEveryMs: undefined }, false, true, [0.9, 0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 400 }]);
      frames(1, 0.3, 1, [{ event: 'speech-start', atMs: 420 }]); // before the verdict is back
      expect(events.find((event) => event.type === 'score')!.signal!.aborted).toBe(true);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score']);
    });

    /** A verdict the voice gave before the pause's words were in (they come with `words`). */
    const voiceFirst = (words: Promise<string | undefined> = new Promise(() => undefined)): EndOfTurnVerdict => ({ complete: true, completeProbability: 0.97, transcriptLater: words });

    it('ends a turn provisionally on the voice before its words, and withdraws it when the voice comes back: the same utterance goes on', async () => {
      const { events, frames, endpointer } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [voiceFirst(), 0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      const provisional = events.at(-1)!.ended!.provisional!;
      expect(provisional.completeProbability).toBe(0.97);
      expect(provisional.signal.aborted).toBe(false);
      // The utterance is still the endpointer's: quiet frames wait for the words.
      expect(endpointer.current?.id).toBe(events[1]!.utterance!.id);
      frames(3, 0.001, 1);
      expect(provisional.signal.aborted).toBe(false);
      // A gap between words: the voice comes back, the end is withdrawn, no new speech starts.
      frames(10, 0.3, 1);
      expect(provisional.signal.aborted).toBe(true);
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 680 }]);
      await flush();
      // The turn is the whole of it: both words, one utterance.
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'score', 'utterance']);
      expect(events.at(-1)!.ended!.provisional).toBeUndefined();
      expect(events.at(-1)!.ended!.pcm.length).toBeGreaterThanOrEqual((20 + 1 + 3 + 10) * FRAME_SAMPLES);
      expect(events.at(-1)!.ended!.id).toBe(events[1]!.utterance!.id);
    });

    it('lets a provisional end stand once the VAD\'s silence ran out and the session confirms it; voice after it is new speech', async () => {
      const { events, frames, endpointer } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [voiceFirst(Promise.resolve('What time is it?'))]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      const ended = events.at(-1)!.ended!;
      let silenceRanOut = false;
      void ended.provisional!.silence.then(() => (silenceRanOut = true));
      frames(4, 0.001, 0);
      await flush();
      expect(silenceRanOut).toBe(false);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 420 }]);
      await flush();
      expect(silenceRanOut).toBe(true);
      expect(await ended.transcriptLater).toBe('What time is it?');
      endpointer.confirm(ended.id);
      expect(endpointer.current).toBeUndefined();
      // The VAD ended that speech already, so it says speech-start for the next.
      frames(5, 0.3, 1, [{ event: 'speech-start', atMs: 520 }]);
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'speechStart']);
      expect(events.at(-1)!.utterance!.id).toBe(ended.id + 1);
    });

    it('holds a provisional end the words reopen ("I was wondering") open for the hold asked, then ends it with those words', async () => {
      const { events, frames, endpointer } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [voiceFirst()]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      const ended = events.at(-1)!.ended!;
      endpointer.reopen(ended.id, 200, 'I was wondering');
      await expect(ended.provisional!.silence).resolves.toBeUndefined();
      frames(5, 0.001, 0);
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance']);
      frames(6, 0.001, 0);
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'utterance']);
      expect(events.at(-1)!.ended!.transcript).toBe('I was wondering');
      expect(events.at(-1)!.ended!.provisional).toBeUndefined();
    });

    it('judges a pause only once a word\'s soft tail (20–40 dB under the loudest) has faded, so the words at the pause keep it', async () => {
      const { events, frames } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20 }, interimEveryMs: undefined }, false, true, [0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(3, 0.01, 1); // the tail: 30 dB under the speech, the VAD still hearing it
      expect(kinds(events)).toEqual(['speechStart']);
      frames(1, 0.001, 1);
      expect(kinds(events)).toEqual(['speechStart', 'score']);
      await flush();
      // The turn so far, tail included, went to the judging.
      expect(events.at(-1)!.ended!.pcm.length).toBeGreaterThanOrEqual((20 + 3) * FRAME_SAMPLES);
    });

    it('goes on with the utterance when the voice comes back after the words reopened an early end (the VAD says no speech-start for it)', async () => {
      const { events, frames, endpointer } = harness({ endOfTurn: { ...endOfTurn, judgeAfterSilenceMs: 20, maxPauseMs: 1500 }, interimEveryMs: undefined }, false, true, [voiceFirst(), 0.9]);
      frames(20, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 1);
      await flush();
      const first = events.at(-1)!.ended!;
      endpointer.reopen(first.id, 1500, 'What is the capital of');
      // "France?": the same speech to the VAD, so no speech-start; the hold and its stale words are void.
      frames(15, 0.3, 1);
      frames(1, 0.001, 1);
      await flush();
      const last = events.at(-1)!.ended!;
      expect(kinds(events)).toEqual(['speechStart', 'score', 'utterance', 'score', 'utterance']);
      expect(last.transcript).toBe('words 0.9');
      expect(last.pcm.length).toBeGreaterThanOrEqual((20 + 1 + 15) * FRAME_SAMPLES);
    });

    it('never asks the model about noise', async () => {
      const { events, frames } = harness({ endOfTurn }, false, true, [0.1]);
      frames(2, 0.3, 1, [{ event: 'speech-start', atMs: 0 }]);
      frames(1, 0.001, 0, [{ event: 'speech-end', atMs: 40 }]);
      await flush();
      expect(kinds(events)).toEqual(['speechStart', 'noise']);
    });
  });
});
