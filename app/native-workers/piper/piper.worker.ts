import { serveWorker } from '../worker-runtime';
import { PiperEngine } from './piper-engine';

/** Worker-thread entry of Piper voices run by onnxruntime-node with exact phoneme timing (engine "piper"). */
serveWorker(new PiperEngine());
