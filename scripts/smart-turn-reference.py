#!/usr/bin/env python3
"""Smart Turn v3 reference features (and probability) for the TypeScript port's tests.

Runs pipecat's own numpy feature code (`_whisper_features.py` from the pipecat-ai wheel, which
`npm run models -- dev` unpacks next to the model) on raw 16 kHz float32 clips, the way pipecat's
LocalSmartTurnAnalyzerV3 prepares a turn: the last 8 s, zeros in front of a shorter clip. Writes each
clip's features (80 x 800 float32, little-endian) to the output folder and prints one JSON object.
When the Python onnxruntime package is installed, it also runs the model with pipecat's session
options and reports the probability; otherwise the probability is null.

Usage: smart-turn-reference.py --features-code PATH [--model PATH] --out-dir DIR NAME=CLIP.f32 ...
Needs numpy.
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 16000
WINDOW_SAMPLES = 8 * SAMPLE_RATE_HZ


def load_features_module(path: Path):
    sys.dont_write_bytecode = True  # leave the models cache as `npm run models -- dev` unpacked it
    spec = importlib.util.spec_from_file_location("smart_turn_whisper_features", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def place_in_window(audio: np.ndarray) -> np.ndarray:
    """The analyzer's convention: keep the last 8 s, pad zeros at the start."""
    if audio.size >= WINDOW_SAMPLES:
        return audio[audio.size - WINDOW_SAMPLES :]
    return np.concatenate([np.zeros(WINDOW_SAMPLES - audio.size, dtype=np.float32), audio])


def open_session(model: Path):
    try:
        import onnxruntime as ort
    except ModuleNotFoundError:
        return None, None
    options = ort.SessionOptions()
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model), sess_options=options), ort.__version__


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features-code", type=Path, required=True)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("clips", nargs="+", help="NAME=PATH of raw float32 little-endian 16 kHz mono")
    args = parser.parse_args()

    features_module = load_features_module(args.features_code)
    session, ort_version = open_session(args.model) if args.model else (None, None)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    results = []
    for clip in args.clips:
        name, _, path = clip.partition("=")
        audio = np.fromfile(path, dtype="<f4")
        features = features_module.compute_whisper_log_mel_features(place_in_window(audio), do_normalize=True)
        out_path = args.out_dir / f"{name}.features.f32"
        features.astype("<f4").tofile(out_path)
        probability = None
        if session is not None:
            outputs = session.run(None, {"input_features": features[np.newaxis, :, :]})
            probability = float(outputs[0][0].item())
        results.append({"name": name, "shape": list(features.shape), "featuresPath": str(out_path), "probability": probability})

    json.dump({"numpy": np.__version__, "onnxruntime": ort_version, "results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
