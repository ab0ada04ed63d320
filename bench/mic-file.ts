import { EmbeddedVoice } from '../app/engine/lipsync/embedded-voice';
import { resample, writeWavFile } from '../app/engine/lipsync/wav-file';
import { concatPcm } from '../app/shared/audio/pcm';
import { MIC_RATE_HZ } from '../app/hosts/cli/spoken-turn';

/** One stretch of a fake microphone's file: silence, or a line in the embedded eSpeak NG voice. */
export type MicSegment = { silenceSec: number } | { text: string };

/**
 * Writes the file Chromium's fake microphone loops (`--use-file-for-fake-audio-capture`): the
 * segments in order at the microphone's rate. Returns the file's length in seconds.
 */
export async function writeMicFile(path: string, segments: readonly MicSegment[]): Promise<number> {
  const voice = await EmbeddedVoice.create();
  const parts = segments.map((segment) => {
    if ('silenceSec' in segment) return new Float32Array(Math.round(MIC_RATE_HZ * segment.silenceSec));
    const clip = voice.render(segment.text);
    return resample(clip.pcm, clip.sampleRateHz, MIC_RATE_HZ);
  });
  const pcm = concatPcm(parts);
  await writeWavFile(path, { pcm, sampleRateHz: MIC_RATE_HZ });
  return pcm.length / MIC_RATE_HZ;
}
