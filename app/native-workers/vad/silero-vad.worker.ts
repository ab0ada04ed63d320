import { serveWorker } from '../worker-runtime';
import { SileroVadEngine } from './silero-vad-engine';

/** Worker-thread entry of the silero voice activity detector (engine "silero-vad"). */
serveWorker(new SileroVadEngine());
