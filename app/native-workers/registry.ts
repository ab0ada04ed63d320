import { entryPath } from '../main/app-paths';

/**
 * Worker entry per engine implementation. Each entry is a worker_thread script that calls
 * `serveWorker(...)`; its build name must also be listed in electron.vite.config.ts (main inputs).
 */
const WORKER_ENTRIES: Record<string, { buildName: string; sourcePath: string }> = {
  scripted: { buildName: 'scripted.worker', sourcePath: 'app/native-workers/scripted/scripted.worker.ts' },
  espeak: { buildName: 'espeak.worker', sourcePath: 'app/native-workers/tts/espeak.worker.ts' },
  'sherpa-vits': { buildName: 'sherpa-vits.worker', sourcePath: 'app/native-workers/tts/sherpa-vits.worker.ts' },
  piper: { buildName: 'piper.worker', sourcePath: 'app/native-workers/piper/piper.worker.ts' },
  'silero-vad': { buildName: 'silero-vad.worker', sourcePath: 'app/native-workers/vad/silero-vad.worker.ts' },
  whisper: { buildName: 'whisper.worker', sourcePath: 'app/native-workers/stt/whisper.worker.ts' },
  llama: { buildName: 'llama.worker', sourcePath: 'app/native-workers/llm/llama.worker.ts' },
};

/** True when a worker implementation named `engine` is part of this build. */
export function hasWorkerEngine(engine: string): boolean {
  return engine in WORKER_ENTRIES;
}

/** Resolves the worker script that runs `engine`; throws a clear error for an unknown engine. */
export function workerEntryFor(engine: string): string {
  const entry = WORKER_ENTRIES[engine];
  if (!entry) throw new Error(`Unknown worker engine "${engine}" (known: ${Object.keys(WORKER_ENTRIES).join(', ')})`);
  return entryPath(entry.buildName, entry.sourcePath);
}
