import { serveWorker } from '../worker-runtime';
import { SmartTurnEngine } from './smart-turn-engine';

/** Worker-thread entry of the Smart Turn end-of-turn model (engine "smart-turn"). */
serveWorker(new SmartTurnEngine());
