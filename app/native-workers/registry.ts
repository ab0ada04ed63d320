/**
 * The one list of worker entries: each is a worker_thread script that calls `serveWorker(...)`.
 * electron.vite.config.ts builds every entry here; the pool resolves them (app/engine/pool/worker-entry.ts).
 */
export const WORKER_ENTRIES: Readonly<Record<string, { buildName: string; sourcePath: string }>> = {
  scripted: { buildName: 'scripted.worker', sourcePath: 'app/native-workers/scripted/scripted.worker.ts' },
  espeak: { buildName: 'espeak.worker', sourcePath: 'app/native-workers/tts/espeak.worker.ts' },
  'sherpa-vits': { buildName: 'sherpa-vits.worker', sourcePath: 'app/native-workers/tts/sherpa-vits.worker.ts' },
  piper: { buildName: 'piper.worker', sourcePath: 'app/native-workers/piper/piper.worker.ts' },
  'silero-vad': { buildName: 'silero-vad.worker', sourcePath: 'app/native-workers/vad/silero-vad.worker.ts' },
  whisper: { buildName: 'whisper.worker', sourcePath: 'app/native-workers/stt/whisper.worker.ts' },
  llama: { buildName: 'llama.worker', sourcePath: 'app/native-workers/llm/llama.worker.ts' },
  'smart-turn': { buildName: 'smart-turn.worker', sourcePath: 'app/native-workers/turn/smart-turn.worker.ts' },
};

/** True when a worker implementation named `engine` is part of this build. */
export function hasWorkerEngine(engine: string): boolean {
  return engine in WORKER_ENTRIES;
}
