import { serveWorker } from '../worker-runtime';
import { SherpaVitsEngine } from './sherpa-vits-engine';

/** Worker-thread entry of VITS/Piper voices run by sherpa-onnx (engine "sherpa-vits"). */
serveWorker(new SherpaVitsEngine());
