import { serveWorker } from '../worker-runtime';
import { EspeakEngine } from './espeak-engine';

/** Worker-thread entry of the embedded eSpeak NG voice (engine "espeak"). */
serveWorker(new EspeakEngine());
