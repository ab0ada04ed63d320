import { describe, expect, it } from 'vitest';
import { fullCollection, NativeGarbage } from '../../app/native-workers/llm/native-garbage';

describe('native garbage (memory only a V8 collection frees)', () => {
  it('collects once the noted bytes reach the limit, then counts again from zero', () => {
    let collections = 0;
    const garbage = new NativeGarbage(1000, () => collections++);
    garbage.add(600);
    expect(collections).toBe(0);
    expect(garbage.pending).toBe(600);
    garbage.add(400);
    expect(collections).toBe(1);
    expect(garbage.pending).toBe(0);
    garbage.add(0);
    garbage.add(-5);
    garbage.add(Number.NaN);
    expect(garbage.pending).toBe(0);
    for (let i = 0; i < 5; i++) garbage.add(500);
    expect(collections).toBe(3);
    expect(garbage.count).toBe(3);
  });

  it('refuses a limit that would collect on every call or never', () => {
    expect(() => new NativeGarbage(0, () => undefined)).toThrow(RangeError);
    expect(() => new NativeGarbage(Number.NaN, () => undefined)).toThrow(RangeError);
  });

  it('runs a real full collection: an unreachable object is finalized (what frees a native sampler)', async () => {
    const collect = fullCollection();
    let finalized = false;
    const registry = new FinalizationRegistry(() => {
      finalized = true;
    });
    (() => {
      // Old enough to survive scavenges: only a full collection finds it unreachable.
      const wrapper = { buffer: new Array(1000).fill(0) };
      registry.register(wrapper, 'sampler');
    })();
    for (let attempt = 0; attempt < 10 && !finalized; attempt++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(finalized).toBe(true);
  });
});
