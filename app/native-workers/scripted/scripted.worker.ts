import { serveWorker } from '../worker-runtime';
import { ScriptedEngine } from './scripted-engine';

/** Worker-thread entry of the scripted engine (all four kinds). */
serveWorker(new ScriptedEngine());
