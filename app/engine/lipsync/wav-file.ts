import { readFile, writeFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { PcmClip } from '../../shared/lipsync/reference-alignment';

/**
 * WAV files ↔ mono float PCM through `wavefile`: any channel count, 8/16/24/32-bit integer, 32/64-bit
 * float, A-law, µ-law and IMA ADPCM in; channels are averaged. Written files are 16-bit mono.
 * Audio keeps its sample rate: the lip-sync features are computed in Hz, so any rate works.
 */

const { WaveFile } = wavefile;

/** Reads and decodes a WAV file (throws AppError `bad_audio` when it cannot). */
export async function readWavFile(path: string): Promise<PcmClip> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new AppError(ErrorCode.BadAudio, `Cannot read the audio file ${path}: ${(error as Error).message}`, false, { cause: error });
  }
  return decodeWav(bytes);
}

/** Decodes WAV bytes to mono float PCM in [-1, 1]. */
export function decodeWav(bytes: Uint8Array): PcmClip {
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(bytes);
    if (wav.bitDepth === '8a') wav.fromALaw();
    else if (wav.bitDepth === '8m') wav.fromMuLaw();
    else if (wav.bitDepth === '4') wav.fromIMAADPCM();
    wav.toBitDepth('32f');
  } catch (error) {
    throw new AppError(ErrorCode.BadAudio, `This is not a WAV file that can be read: ${(error as Error).message}`, false, { cause: error });
  }
  const { sampleRate, numChannels } = wav.fmt as { sampleRate: number; numChannels: number };
  const samples = wav.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
  const channels = numChannels > 1 ? (samples as Float32Array[]) : [samples as Float32Array];
  const length = channels[0]?.length ?? 0;
  const pcm = new Float32Array(length);
  for (const channel of channels) for (let i = 0; i < length; i++) pcm[i]! += channel[i]! / channels.length;
  if (!(sampleRate > 0)) throw new AppError(ErrorCode.BadAudio, 'The WAV file has no sample rate.', false);
  return { pcm, sampleRateHz: sampleRate };
}

/** Band-limited (sinc) resampling of mono PCM, through wavefile. */
export function resample(pcm: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return pcm;
  const wav = new WaveFile();
  wav.fromScratch(1, fromHz, '32f', pcm);
  wav.toSampleRate(toHz, { method: 'sinc' });
  return wav.getSamples(false, Float32Array) as unknown as Float32Array;
}

/** WAV bytes (any layout `decodeWav` reads) → mono PCM at `sampleRateHz`, e.g. 16 kHz for whisper. */
export function decodeWavAt(bytes: Uint8Array, sampleRateHz: number): Float32Array<ArrayBuffer> {
  const clip = decodeWav(bytes);
  return Float32Array.from(resample(clip.pcm, clip.sampleRateHz, sampleRateHz));
}

/** Encodes mono PCM as a 16-bit WAV file. */
export function encodeWav(clip: PcmClip): Uint8Array {
  const ints = new Int16Array(clip.pcm.length);
  for (let i = 0; i < ints.length; i++) ints[i] = Math.round(Math.max(-1, Math.min(1, clip.pcm[i]!)) * 32767);
  const wav = new WaveFile();
  wav.fromScratch(1, clip.sampleRateHz, '16', ints);
  return wav.toBuffer();
}

/** Writes mono PCM as a 16-bit WAV file. */
export async function writeWavFile(path: string, clip: PcmClip): Promise<void> {
  await writeFile(path, encodeWav(clip));
}
