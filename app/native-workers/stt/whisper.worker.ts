import { serveWorker } from '../worker-runtime';
import { WhisperEngine } from './whisper-engine';

/**
 * Worker thread for the "whisper" engine: whisper.cpp in-process through smart-whisper (compiled at
 * install with this CPU's SIMD). Send `unload` before terminating the thread while a transcription
 * runs: it answers once the native call is over and the model is freed.
 */
serveWorker(new WhisperEngine());
