import { serveWorker } from '../worker-runtime';
import { WhisperEngine } from './whisper-engine';

/**
 * Worker thread for the "whisper" engine: whisper.cpp in-process through @fugood/whisper.node.
 * Terminating this thread while a transcription runs aborts the whole process (the binding throws
 * from its completion callback into a torn-down environment): send `unload` first, which answers
 * once the native call is over.
 */
serveWorker(new WhisperEngine());
