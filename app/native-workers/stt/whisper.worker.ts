import { serveWorker } from '../worker-runtime';
import { WhisperEngine } from './whisper-engine';

/** Worker thread for the "whisper" engine: whisper.cpp in-process through @fugood/whisper.node. */
serveWorker(new WhisperEngine());
