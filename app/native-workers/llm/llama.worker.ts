import { serveWorker } from '../worker-runtime';
import { LlamaEngine } from './llama-engine';

/** Worker thread entry for the `llama` engine: a llama.cpp chat model behind the worker protocol. */
serveWorker(new LlamaEngine());
