import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  OnnxPatchError,
  addDurationsOutput,
  durationsTensorName,
  hasDurationsOutput,
  inspectPiperGraph,
} from '../../app/native-workers/piper/piper-alignment-patch';
import { patchPiperVoice } from '../../scripts/piper-alignment';

/**
 * A tiny ONNX model shaped like the part of a Piper graph the patch touches: `logw` → Ceil →
 * `w_ceil` → Mul by an initializer → `output`, plus fields the patch's schema does not know
 * (ModelProto field 99, GraphProto field 98), which must come through byte for byte.
 */
type Build = (writer: protobuf.Writer) => void;

const BYTES = 2;
const VARINT = 0;
const tag = (field: number, wire: number): number => (field << 3) | wire;

function message(writer: protobuf.Writer, field: number, build: Build): void {
  writer.uint32(tag(field, BYTES)).fork();
  build(writer);
  writer.ldelim();
}

function valueInfo(writer: protobuf.Writer, field: number, name: string): void {
  message(writer, field, (w) => {
    w.uint32(tag(1, BYTES)).string(name);
    message(w, 2, (type) =>
      message(type, 1, (tensor) => {
        tensor.uint32(tag(1, VARINT)).int32(1);
        message(tensor, 2, (shape) => {
          message(shape, 1, (dim) => dim.uint32(tag(1, VARINT)).int64(1));
          message(shape, 1, (dim) => dim.uint32(tag(1, VARINT)).int64(1));
          message(shape, 1, (dim) => dim.uint32(tag(2, BYTES)).string('n'));
        });
      }),
    );
  });
}

function node(writer: protobuf.Writer, opType: string, inputs: string[], outputs: string[]): void {
  message(writer, 1, (w) => {
    for (const input of inputs) w.uint32(tag(1, BYTES)).string(input);
    for (const output of outputs) w.uint32(tag(2, BYTES)).string(output);
    w.uint32(tag(3, BYTES)).string(`${opType}_node_${outputs[0]}`);
    w.uint32(tag(4, BYTES)).string(opType);
  });
}

function tinyModel(options: { ceilCount?: number } = {}): Uint8Array {
  const ceilCount = options.ceilCount ?? 1;
  const writer = protobuf.Writer.create();
  writer.uint32(tag(1, VARINT)).int64(8); // ir_version
  writer.uint32(tag(2, BYTES)).string('piper-patch-test');
  message(writer, 7, (graph) => {
    if (ceilCount === 0) node(graph, 'Floor', ['logw'], ['w_ceil']);
    for (let i = 0; i < ceilCount; i++) node(graph, 'Ceil', ['logw'], [i === 0 ? 'w_ceil' : `w_ceil_${i}`]);
    node(graph, 'Mul', ['w_ceil', 'hop'], ['output']);
    graph.uint32(tag(2, BYTES)).string('tiny');
    message(graph, 5, (tensor) => {
      tensor.uint32(tag(2, VARINT)).int32(1);
      tensor.uint32(tag(8, BYTES)).string('hop');
      tensor.uint32(tag(9, BYTES)).bytes(new Uint8Array(Float32Array.of(256).buffer));
    });
    valueInfo(graph, 11, 'logw');
    valueInfo(graph, 12, 'output');
    graph.uint32(tag(98, BYTES)).string('graph field unknown to the schema');
  });
  message(writer, 8, (opset) => opset.uint32(tag(2, VARINT)).int64(13));
  message(writer, 14, (entry) => {
    entry.uint32(tag(1, BYTES)).string('comment');
    entry.uint32(tag(2, BYTES)).string('piper');
  });
  writer.uint32(tag(99, BYTES)).string('model field unknown to the schema');
  return writer.finish();
}

/** Top-level fields as [field number, exact bytes] (the graph's payload separately). */
function topLevel(model: Uint8Array): { fields: [number, string][]; graph: Uint8Array } {
  const reader = protobuf.Reader.create(model);
  const fields: [number, string][] = [];
  let graph: Uint8Array = new Uint8Array();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const key = reader.uint32();
    if (key >>> 3 === 7) {
      graph = reader.bytes();
      continue;
    }
    reader.skipType(key & 7);
    fields.push([key >>> 3, Buffer.from(model.subarray(start, reader.pos)).toString('hex')]);
  }
  return { fields, graph };
}

describe('Piper alignment patch (ONNX graph edit)', () => {
  it('finds the single Ceil node and lists its output after the existing ones', () => {
    const model = tinyModel();
    const info = inspectPiperGraph(model);
    expect(info).toEqual({ inputNames: ['logw'], outputNames: ['output'], ceilOutputs: ['w_ceil'] });
    expect(durationsTensorName(info)).toBe('w_ceil');
    expect(hasDurationsOutput(info)).toBe(false);

    const patched = addDurationsOutput(model);
    expect(patched.durationsOutput).toBe('w_ceil');
    const after = inspectPiperGraph(patched.bytes);
    expect(after.outputNames).toEqual(['output', 'w_ceil']);
    expect(after.inputNames).toEqual(['logw']);
    expect(hasDurationsOutput(after)).toBe(true);
  });

  it('copies every other byte exactly: unknown fields, initializers, metadata, opset', () => {
    const model = tinyModel();
    const patched = addDurationsOutput(model).bytes;
    const before = topLevel(model);
    const after = topLevel(patched);
    expect(after.fields).toEqual(before.fields);
    expect(before.fields.map(([field]) => field)).toEqual([1, 2, 8, 14, 99]);
    // The graph is the original graph message followed by one more `output` (field 12) entry.
    expect(Buffer.from(after.graph.subarray(0, before.graph.length)).equals(Buffer.from(before.graph))).toBe(true);
    const appended = protobuf.Reader.create(after.graph.subarray(before.graph.length));
    expect(appended.uint32()).toBe(tag(12, BYTES));
    appended.bytes();
    expect(appended.pos).toBe(appended.len);
    expect(Buffer.from(patched).includes(Buffer.from('model field unknown to the schema'))).toBe(true);
    expect(Buffer.from(patched).includes(Buffer.from('graph field unknown to the schema'))).toBe(true);
  });

  it('gives onnxruntime a second output with the Ceil values, the first unchanged', async () => {
    const logw = Float32Array.of(0.2, 1, 2.5, 3.01);
    const feeds = { logw: new ort.Tensor('float32', logw, [1, 1, 4]) };
    const original = await ort.InferenceSession.create(tinyModel());
    const patched = await ort.InferenceSession.create(addDurationsOutput(tinyModel()).bytes);
    try {
      expect(original.outputNames).toEqual(['output']);
      expect(patched.outputNames).toEqual(['output', 'w_ceil']);
      const a = await original.run(feeds);
      const b = await patched.run(feeds);
      expect(Array.from(b.output!.data as Float32Array)).toEqual(Array.from(a.output!.data as Float32Array));
      expect(Array.from(b.w_ceil!.data as Float32Array)).toEqual([1, 1, 3, 4]);
      expect(b.w_ceil!.dims).toEqual([1, 1, 4]);
    } finally {
      await original.release();
      await patched.release();
    }
  });

  it('refuses graphs it does not understand and non-ONNX bytes', () => {
    expect(() => addDurationsOutput(tinyModel({ ceilCount: 0 }))).toThrow(/no Ceil node/);
    expect(() => addDurationsOutput(tinyModel({ ceilCount: 2 }))).toThrow(/several Ceil outputs/);
    expect(() => addDurationsOutput(addDurationsOutput(tinyModel()).bytes)).toThrow(/already outputs w_ceil/);
    expect(() => inspectPiperGraph(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(OnnxPatchError);
    expect(() => inspectPiperGraph(tinyModel().subarray(0, 40))).toThrow(OnnxPatchError);
  });

  it('the CLI writes the patched copy where asked and checks it with onnxruntime', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'piper-cli-'));
    try {
      const source = join(dir, 'tiny.onnx');
      await writeFile(source, tinyModel());
      const result = await patchPiperVoice(source, { out: join(dir, 'tiny.aligned.onnx') });
      expect(result).toEqual({ path: join(dir, 'tiny.aligned.onnx'), durationsOutput: 'w_ceil', outputNames: ['output', 'w_ceil'] });
      const again = await patchPiperVoice(result.path, { out: join(dir, 'again.onnx') });
      expect(again.outputNames).toEqual(['output', 'w_ceil']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
