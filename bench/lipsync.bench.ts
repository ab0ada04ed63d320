import { EmbeddedVoice } from '../app/engine/lipsync/embedded-voice';
import { alignTextToAudio, DEFAULT_TEXT_ALIGNER_OPTIONS } from '../app/engine/lipsync/text-aligner';
import { estimateVisemesFromAudio, estimateVisemesFromVolume } from '../app/shared/lipsync/audio-visemes';
import { visemeAt, visemeSpansFromPhonemes, type VisemeSpan } from '../app/shared/lipsync/viseme-spans';
import { EMBEDDED_VOICE_VISEME_CLASSIFIER } from '../app/shared/lipsync/viseme-classifier-model';
import { buildVisemeTrack, dominantViseme, emptyVisemeWeights, sampleVisemeWeights } from '../app/shared/lipsync/viseme-track';
import type { Viseme } from '../app/shared/phoneme.contract';
import { quantile, round3, type Benchmark } from './bench-api';
import { dominantOnsets, frameAgreement, mean, onsetErrorsMs, speechRangeMs } from './lipsync-metrics';
import { BENCH_SENTENCES, TRAINING_RENDERINGS } from './lipsync-sentences';
import { synthesizeWithTruth } from './native-piper';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';

/**
 * `npm run bench -- lipsync [--sentences N]`: lip-sync timing accuracy against exact ground truth.
 * Every sentence is rendered by the embedded eSpeak NG voice in a test variant (voice + speed) that
 * is neither an alignment reference voice nor a template training variant; its own phoneme events
 * are the truth. Modes: (a) exact timings through the coarticulated viseme track the renderer
 * samples, (b) timings aligned from audio + text, (c) visemes from audio alone vs the volume-only
 * baseline. Definitions of agreement and onset error: bench/lipsync-metrics.ts.
 */

const TEST_RENDERINGS = [
  { voice: 'en-us+f3', speed: 0.85 },
  { voice: 'en-us+m7', speed: 1.15 },
  { voice: 'en-us+m2', speed: 1 },
  { voice: 'en-us+f1', speed: 1.25 },
  { voice: 'en-us+m4', speed: 0.95 },
] as const;

/** A viseme the track never makes dominant near its truth onset counts as this late. */
const MISSED_ONSET_ERROR_MS = 50;

/** Onset errors of the track's dominant visemes: each truth viseme onset vs the nearest onset of a dominant run of the same viseme. */
function trackOnsetErrors(truth: readonly VisemeSpan[], runs: readonly VisemeSpan[]): { errors: number[]; missed: number } {
  const errors: number[] = [];
  let missed = 0;
  for (const span of truth) {
    if (span.viseme === 'sil') continue;
    let best = Number.POSITIVE_INFINITY;
    for (const run of runs) {
      if (run.viseme === span.viseme && run.startMs < span.endMs && run.endMs > span.startMs) {
        best = Math.min(best, Math.abs(run.startMs - span.startMs));
      }
    }
    if (best === Number.POSITIVE_INFINITY) missed++;
    errors.push(Math.min(best, MISSED_ONSET_ERROR_MS));
  }
  return { errors, missed };
}

const lipsyncBench: Benchmark = {
  name: 'lipsync',
  description: 'lip-sync accuracy: exact timings, audio+text alignment, audio-only vs volume-only (embedded voice ground truth)',
  async run(options) {
    const sentences = BENCH_SENTENCES.slice(0, Number(options.sentences ?? BENCH_SENTENCES.length));
    const voice = await EmbeddedVoice.create();
    for (const text of BENCH_SENTENCES.slice(0, 4)) voice.render(text); // let V8 optimize the wasm2js build first

    const exactErrors: number[] = [];
    let exactMissed = 0;
    const alignedErrors: number[] = [];
    const alignedComputeRatios: number[] = [];
    const agreement = { exact: { matching: 0, total: 0 }, aligned: { matching: 0, total: 0 }, audio: { matching: 0, total: 0 }, volume: { matching: 0, total: 0 } };
    const add = (into: { matching: number; total: number }, counts: { matching: number; total: number }): void => {
      into.matching += counts.matching;
      into.total += counts.total;
    };

    sentences.forEach((text, index) => {
      const clip = voice.render(text, TEST_RENDERINGS[index % TEST_RENDERINGS.length]);
      const truth = visemeSpansFromPhonemes(clip.phonemes);
      const speech = speechRangeMs(clip.phonemes);
      if (!speech) return;
      const durationMs = (clip.pcm.length * 1000) / clip.sampleRateHz;

      // (a) exact timeline, as the renderer shows it: the coarticulated track's dominant viseme.
      const track = buildVisemeTrack(truth);
      const weights = emptyVisemeWeights();
      const trackDominant = (timeMs: number): Viseme => dominantViseme(sampleVisemeWeights(track, timeMs, weights));
      add(agreement.exact, frameAgreement(truth, speech, trackDominant));
      const trackOnsets = trackOnsetErrors(truth, dominantOnsets(trackDominant, 0, durationMs));
      exactErrors.push(...trackOnsets.errors);
      exactMissed += trackOnsets.missed;

      // (b) aligned from audio + text, against references in other voices and speeds.
      const started = performance.now();
      const aligned = alignTextToAudio(voice, text, clip);
      alignedComputeRatios.push((performance.now() - started) / durationMs);
      alignedErrors.push(...onsetErrorsMs(clip.phonemes, aligned.phonemes));
      const alignedVisemes = visemeSpansFromPhonemes(aligned.phonemes);
      add(agreement.aligned, frameAgreement(truth, speech, (timeMs) => visemeAt(alignedVisemes, timeMs)));

      // (c) audio only (templates) vs volume only.
      const fromAudio = estimateVisemesFromAudio(clip, EMBEDDED_VOICE_VISEME_CLASSIFIER);
      add(agreement.audio, frameAgreement(truth, speech, (timeMs) => visemeAt(fromAudio, timeMs)));
      const fromVolume = estimateVisemesFromVolume(clip);
      add(agreement.volume, frameAgreement(truth, speech, (timeMs) => visemeAt(fromVolume, timeMs)));
    });

    const ratio = (counts: { matching: number; total: number }): number => round3(counts.matching / Math.max(1, counts.total));

    // (d) the real neural voice (Piper joe-medium) with its own exact durations as ground truth:
    // the aligner (audio + text) against what the voice actually did.
    const piper = await measurePiperColumn(voice, sentences, ratio);
    return {
      models: {
        tts: 'eSpeak NG (embedded WASM) — ground truth from its phoneme events',
        test_voices: TEST_RENDERINGS.map((rendering) => `${rendering.voice}@${rendering.speed}`).join(', '),
        alignment_reference_voices: DEFAULT_TEXT_ALIGNER_OPTIONS.referenceVoices.join(', '),
        audio_only_classifier: `trained on ${TRAINING_RENDERINGS.map((rendering) => rendering.voice).join(', ')} on other sentences`,
      },
      runs: sentences.length,
      metrics: {
        exact_onset_error_ms_mean: round3(mean(exactErrors)),
        exact_onset_error_ms_p95: round3(quantile(exactErrors, 0.95)),
        exact_missed_viseme_ratio: round3(exactMissed / Math.max(1, exactErrors.length)),
        exact_viseme_agreement_ratio: ratio(agreement.exact),
        aligned_onset_error_ms_mean: round3(mean(alignedErrors)),
        aligned_onset_error_ms_p95: round3(quantile(alignedErrors, 0.95)),
        aligned_viseme_agreement_ratio: ratio(agreement.aligned),
        aligned_compute_over_audio_ratio_mean: round3(mean(alignedComputeRatios)),
        audio_only_viseme_agreement_ratio: ratio(agreement.audio),
        volume_only_viseme_agreement_ratio: ratio(agreement.volume),
        ...piper.metrics,
      },
      notes: [
        'agreement: share of 10 ms frames over speech (first to last non-silent phoneme of the truth) whose dominant viseme equals the truth viseme at the frame centre',
        'exact_*: the exact timeline through the coarticulated viseme track (dominant viseme as sampled by the renderer); onset = when a viseme becomes dominant, a viseme never dominant counts 50 ms',
        'aligned_*: phoneme onsets aligned from audio + text (non-silent phonemes, paired in order); reference renderings use other voices and speeds than the test audio',
        'audio_only vs volume_only: no text; volume-only opens the mouth ("aa") whenever the audio is loud',
        piper.note,
      ],
    };
  },
};

/** Aligner vs the Piper voice's exact graph durations over the same sentences (skipped without the voice). */
async function measurePiperColumn(
  voice: EmbeddedVoice,
  sentences: readonly string[],
  ratio: (counts: { matching: number; total: number }) => number,
): Promise<{ metrics: Record<string, number>; note: string }> {
  const dev = await devModelsOrSkipReason();
  if (!dev.ok) return { metrics: {}, note: `piper_*: skipped (${dev.skipReason})` };
  const errors: number[] = [];
  const agreement = { matching: 0, total: 0 };
  const audioOnly = { matching: 0, total: 0 };
  for (const text of sentences) {
    const clip = await synthesizeWithTruth(text, { modelPath: dev.profile.tts.piperOnnxPath });
    const truth = visemeSpansFromPhonemes(clip.phonemes);
    const speech = speechRangeMs(clip.phonemes);
    if (!speech) continue;
    const aligned = alignTextToAudio(voice, text, clip);
    errors.push(...onsetErrorsMs(clip.phonemes, aligned.phonemes));
    const alignedVisemes = visemeSpansFromPhonemes(aligned.phonemes);
    const counts = frameAgreement(truth, speech, (timeMs) => visemeAt(alignedVisemes, timeMs));
    agreement.matching += counts.matching;
    agreement.total += counts.total;
    const fromAudio = estimateVisemesFromAudio(clip, EMBEDDED_VOICE_VISEME_CLASSIFIER);
    const audioCounts = frameAgreement(truth, speech, (timeMs) => visemeAt(fromAudio, timeMs));
    audioOnly.matching += audioCounts.matching;
    audioOnly.total += audioCounts.total;
  }
  return {
    metrics: {
      piper_aligned_onset_error_ms_mean: round3(mean(errors)),
      piper_aligned_onset_error_ms_p95: round3(quantile(errors, 0.95)),
      piper_aligned_viseme_agreement_ratio: ratio(agreement),
      piper_audio_only_viseme_agreement_ratio: ratio(audioOnly),
    },
    note: 'piper_*: Piper en_US-joe-medium (real neural voice, noise on) with its exact graph durations as truth; the aligner and the audio-only estimate measured against them',
  };
}

export default lipsyncBench;
