import { SttRunResultSchema } from '../../shared/worker.contract';
import { resolveProfile } from '../../engine/model-profile';
import { readWavFile } from '../../engine/lipsync/wav-file';
import { forkHostLauncher } from '../../engine/pool/host-launcher';
import { WorkerPool } from '../../engine/pool/worker-pool';
import { parseStringOptions, UsageError, type CliCommand } from './cli-command';
import { resample } from './turn-command';

const STT_RATE_HZ = 16_000;

/** Transcribes a WAV file with the app's whisper worker (in its own host process, as in the app). */
async function runTranscribe(args: readonly string[]): Promise<void> {
  const options = parseStringOptions(args, { audio: { type: 'string' }, model: { type: 'string' } });
  if (!options.audio) throw new UsageError('transcribe needs --audio <file.wav>.');
  const clip = await readWavFile(options.audio);
  const pcm = resample(clip.pcm, clip.sampleRateHz, STT_RATE_HZ);
  const { config } = await resolveProfile({ profile: 'auto', sttModelPath: options.model });
  const stt = config.workers.stt;
  if (stt.engine !== 'whisper' || !stt.modelPath) {
    throw new UsageError('No whisper model is installed: give one with --model <ggml file>, or run `npm run models -- dev`.');
  }
  const pool = new WorkerPool({
    kinds: { stt: { count: 1, spec: { kind: 'stt', engine: 'whisper', modelName: stt.modelName, modelPath: stt.modelPath, threads: 1, options: {} } } },
    launcher: forkHostLauncher,
    leaseTimeoutMs: 60_000,
    health: { pingIntervalMs: 1000, pingDeadlineMs: 20_000, memoryCeilingBytes: 4e9 },
    hostRestartDelayMs: 200,
    shutdownTimeoutMs: 10_000,
  });
  try {
    await pool.start();
    const lease = await pool.lease('stt', 'cli-transcribe');
    try {
      const result = SttRunResultSchema.parse(await lease.worker.run({ kind: 'stt', sampleRateHz: STT_RATE_HZ, pcm: Float32Array.from(pcm), final: true }));
      console.log(result.text.trim());
    } finally {
      lease.release();
    }
  } finally {
    await pool.shutdown();
  }
}

export const transcribeCommand: CliCommand = {
  summary: 'speech → text with the app\'s whisper worker',
  usage: `Usage: npm run cli -- transcribe --audio <file.wav> [--model <ggml whisper file>]

Any sample rate; prints the transcript. Without --model it uses the installed or development whisper model.`,
  run: runTranscribe,
};
