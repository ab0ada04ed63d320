import { writeFile } from 'node:fs/promises';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import { estimateVisemesFromAudio } from '../../shared/lipsync/audio-visemes';
import { visemeSpansFromPhonemes } from '../../shared/lipsync/viseme-spans';
import { EMBEDDED_VOICE_VISEME_CLASSIFIER } from '../../shared/lipsync/viseme-classifier-model';
import { parseStringOptions, UsageError, type CliCommand } from './cli-command';
import { EmbeddedVoice } from '../../engine/lipsync/embedded-voice';
import { alignTextToAudio, DEFAULT_TEXT_ALIGNER_OPTIONS } from '../../engine/lipsync/text-aligner';
import { timelineJson } from '../../engine/lipsync/timeline-json';
import { readWavFile } from '../../engine/lipsync/wav-file';

const usage = `Usage: npm run cli -- align --audio <file.wav> [--text "<what is said>"] --out <file.json> [--language en-us]

Writes {"phonemes":[{"phoneme","startMs","endMs"}…],"visemes":[{"viseme","startMs","endMs"}…]} (Oculus
viseme names, whole ms from the start of the file). With --text the text's phonemes are aligned to the
audio (any synthesizer, any sample rate; --language picks the eSpeak voice that phonemizes it); without
text the visemes are estimated from the audio alone and "phonemes" is empty.`;

/** `align`: phoneme/viseme timing of a WAV file, from its text or from the audio alone. */
export const alignCommand: CliCommand = {
  summary: 'time the phonemes and visemes of a WAV file (with its text, or from audio alone)',
  usage,
  async run(args) {
    const values = parseStringOptions(args, { audio: { type: 'string' }, text: { type: 'string' }, out: { type: 'string' }, language: { type: 'string' } });
    if (!values.audio || !values.out) throw new UsageError('align needs --audio and --out.');
    const clip = await readWavFile(values.audio);
    const text = values.text?.trim() ?? '';
    let phonemes: PhonemeSpan[] = [];
    if (text !== '') {
      const voice = await EmbeddedVoice.create();
      const referenceVoices = values.language ? [values.language, `${values.language}+f2`] : DEFAULT_TEXT_ALIGNER_OPTIONS.referenceVoices;
      phonemes = alignTextToAudio(voice, text, clip, { ...DEFAULT_TEXT_ALIGNER_OPTIONS, referenceVoices }).phonemes;
    }
    // Text with nothing to say (only punctuation) falls back to the audio, like no text at all.
    const spoken = phonemes.some((span) => span.phoneme !== 'sil' && span.endMs > span.startMs);
    const json = spoken
      ? timelineJson(phonemes, visemeSpansFromPhonemes(phonemes))
      : timelineJson([], estimateVisemesFromAudio(clip, EMBEDDED_VOICE_VISEME_CLASSIFIER));
    await writeFile(values.out, JSON.stringify(json) + '\n');
    console.log(`${values.out}: ${json.phonemes.length} phonemes, ${json.visemes.length} visemes`);
  },
};
