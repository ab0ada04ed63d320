import { describe, expect, it } from 'vitest';
import { orderedMap } from '../../app/engine/pipeline/ordered-map';

async function* items<T>(values: T[]): AsyncIterable<T> {
  for (const value of values) yield value;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('orderedMap (TTS seq reordering)', () => {
  it('yields results in input order when calls finish out of order', async () => {
    const finished: number[] = [];
    const delays = [60, 5, 30, 1];
    const out: number[] = [];
    for await (const value of orderedMap(
      items([0, 1, 2, 3]),
      async (seq) => {
        await sleep(delays[seq]!);
        finished.push(seq);
        return seq;
      },
      { concurrency: 4, signal: new AbortController().signal },
    )) {
      out.push(value);
    }
    expect(finished).not.toEqual([0, 1, 2, 3]);
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it('never runs more calls at once than the concurrency bound', async () => {
    let running = 0;
    let peak = 0;
    const out: number[] = [];
    for await (const value of orderedMap(
      items([0, 1, 2, 3, 4, 5, 6]),
      async (seq) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(5 + ((seq * 7) % 11));
        running--;
        return seq * 10;
      },
      { concurrency: 2, signal: new AbortController().signal },
    )) {
      out.push(value);
    }
    expect(peak).toBe(2);
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });

  it('stops on abort and aborts the calls still running', async () => {
    const controller = new AbortController();
    const aborted: number[] = [];
    const out: number[] = [];
    const run = (async () => {
      for await (const value of orderedMap(
        items([0, 1, 2]),
        (seq, _index, signal) =>
          new Promise<number>((resolve, reject) => {
            let done = false;
            const timer = setTimeout(() => {
              done = true;
              resolve(seq);
            }, seq === 0 ? 1 : 1000);
            signal.addEventListener('abort', () => {
              if (done) return;
              clearTimeout(timer);
              aborted.push(seq);
              reject(new Error('aborted'));
            });
          }),
        { concurrency: 3, signal: controller.signal },
      )) {
        out.push(value);
        controller.abort();
      }
    })();
    await expect(run).rejects.toThrow();
    expect(out).toEqual([0]);
    expect(aborted.sort()).toEqual([1, 2]);
  });

  it('surfaces a failed call at its position, after the results before it', async () => {
    const out: number[] = [];
    const run = (async () => {
      for await (const value of orderedMap(
        items([0, 1, 2]),
        async (seq) => {
          if (seq === 1) throw new Error('tts failed');
          return seq;
        },
        { concurrency: 3, signal: new AbortController().signal },
      )) {
        out.push(value);
      }
    })();
    await expect(run).rejects.toThrow('tts failed');
    expect(out).toEqual([0]);
  });
});
