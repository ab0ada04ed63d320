import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../../engine/create-engine';
import { PROFILE_NAMES, resolveProfile, type ProfileName } from '../../engine/model-profile';
import { readWavFile, writeWavFile } from '../../engine/lipsync/wav-file';
import { parseStringOptions, UsageError, type CliCommand } from './cli-command';
import { SpokenTurnClient, type SpokenTurn } from './spoken-turn';

export { resample } from './spoken-turn';

/** What `turn.json` holds: the spoken turn without its audio (that is reply.wav), plus the models that ran; times relative to the start of reply.wav. */
export type TurnJson = Omit<SpokenTurn, 'pcm' | 'error'> & { models: string[] };

/**
 * Runs one spoken turn through the same engine and warm pool as the app: the question's audio goes
 * in as 20 ms microphone frames (paced in real time unless --fast), then VAD → STT → LLM → chunker →
 * TTS answer; the reply's chunks are concatenated in order.
 */
async function runTurn(args: readonly string[]): Promise<void> {
  const options = parseStringOptions(args, { audio: { type: 'string' }, out: { type: 'string' }, profile: { type: 'string' }, fast: { type: 'string' } });
  if (!options.audio || !options.out) throw new UsageError('turn needs --audio <question.wav> and --out <dir>.');
  const profile = (options.profile ?? 'auto') as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}.`);
  const question = await readWavFile(options.audio);

  const { config, summary, warnings } = await resolveProfile({ profile });
  for (const line of [...warnings, ...summary]) console.error(`  ${line}`);
  const engine = createEngine(config);
  await engine.start();
  let client: SpokenTurnClient | undefined;
  try {
    client = await SpokenTurnClient.open(engine);
    const turn = await client.speak(question.pcm, question.sampleRateHz, { paced: options.fast === undefined });
    const { pcm, error, ...spoken } = turn;
    const result: TurnJson = { ...spoken, models: summary };
    await mkdir(options.out, { recursive: true });
    await writeWavFile(join(options.out, 'reply.wav'), { pcm, sampleRateHz: turn.sampleRateHz });
    await writeFile(join(options.out, 'turn.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`transcript: ${result.transcript}`);
    console.log(`reply (${result.status}, ${(result.durationMs / 1000).toFixed(1)} s of audio): ${result.reply}`);
    if (error) console.error(`engine error: ${error}`);
  } finally {
    client?.close();
    await engine.shutdown();
  }
}

export const turnCommand: CliCommand = {
  summary: 'one spoken turn through the engine: question.wav → reply.wav + turn.json',
  usage: `Usage: npm run cli -- turn --audio <question.wav> --out <dir> [--profile auto|dev|scripted] [--fast 1]

Feeds the question as microphone audio (paced in real time unless --fast) through the same engine and
warm pool as the app (VAD → STT → LLM → chunker → TTS), then writes <dir>/reply.wav (the reply's chunks
in order) and <dir>/turn.json {transcript, reply, phonemes [{phoneme,startMs,endMs}], trace, …}, times
relative to the start of reply.wav.`,
  run: runTurn,
};
