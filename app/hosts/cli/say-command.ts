import { writeFile } from 'node:fs/promises';
import { visemeSpansFromPhonemes } from '../../shared/lipsync/viseme-spans';
import { parseStringOptions, UsageError, type CliCommand } from './cli-command';
import { DEFAULT_RENDER_OPTIONS, EmbeddedVoice } from '../../engine/lipsync/embedded-voice';
import { timelineJson } from '../../engine/lipsync/timeline-json';
import { writeWavFile } from '../../engine/lipsync/wav-file';

const usage = `Usage: npm run cli -- say --text "<text>" --out <file.wav> [--voice en-us] [--speed 1]

Speaks the text with the embedded eSpeak NG voice: writes the WAV (16-bit mono) and, beside it,
<file.wav>.timeline.json with its exact phoneme and viseme timeline (same shape as \`align\`).`;

/** `say`: the embedded voice's audio plus its exact timeline. */
export const sayCommand: CliCommand = {
  summary: 'speak text with the embedded voice: WAV + exact timeline JSON',
  usage,
  async run(args) {
    const values = parseStringOptions(args, { text: { type: 'string' }, out: { type: 'string' }, voice: { type: 'string' }, speed: { type: 'string' } });
    const text = values.text?.trim() ?? '';
    if (text === '' || !values.out) throw new UsageError('say needs --text and --out.');
    const speed = values.speed === undefined ? DEFAULT_RENDER_OPTIONS.speed : Number(values.speed);
    if (!(speed > 0)) throw new UsageError(`--speed must be a positive number, not "${values.speed}".`);
    const voice = await EmbeddedVoice.create();
    const clip = voice.render(text, { voice: values.voice ?? DEFAULT_RENDER_OPTIONS.voice, speed });
    await writeWavFile(values.out, clip);
    const timelinePath = `${values.out}.timeline.json`;
    await writeFile(timelinePath, JSON.stringify(timelineJson(clip.phonemes, visemeSpansFromPhonemes(clip.phonemes))) + '\n');
    console.log(`${values.out} (${((clip.pcm.length * 1000) / clip.sampleRateHz).toFixed(0)} ms) and ${timelinePath}`);
  },
};
