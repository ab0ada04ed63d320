import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBinaryFrame } from '../../app/shared/binary-frame';
import type { PhonemeSpan } from '../../app/shared/phoneme.contract';
import type { FaceSample, ScheduleRecord } from '../../app/renderer/lipsync/lipsync-probe';
import { appHref, type AvatarE2e, openApp, openPage, send, startAvatarE2e, waitForDiagnostics, waitForReplyEnd } from '../support/avatar-e2e';

/**
 * Lip-sync in a real Chromium, checked against the exact phoneme timeline the engine sent: the
 * `tts.chunk` messages are read off the WebSocket, the renderer's probe records the face the
 * avatar applies on the audio clock (every rendered frame, plus the same computation every few ms
 * between frames, since software GL draws only a few frames a second), and at every p/b/m the lips
 * must be closed while the vowels next to them open the jaw.
 */

const BILABIALS = new Set(['p', 'b', 'm']);
const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);
const REPLY = 'Papa bought a map. Mama made a mop, Bob.';

interface WireChunk {
  seq: number;
  phonemes: PhonemeSpan[];
}

let e2e: AvatarE2e;

beforeAll(async () => {
  e2e = await startAvatarE2e();
});

afterAll(async () => {
  await e2e?.close();
});

/** The tts.chunk messages the page receives (binary frames: JSON header + PCM). */
function captureTtsChunks(page: Page): WireChunk[] {
  const chunks: WireChunk[] = [];
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string') return;
      const message = decodeBinaryFrame(new Uint8Array(payload));
      if (message.type === 'tts.chunk') chunks.push({ seq: message.seq as number, phonemes: message.phonemes as PhonemeSpan[] });
    });
  });
  return chunks;
}

/** Samples whose audio time lies inside [fromMs, toMs]. */
function samplesIn(samples: readonly FaceSample[], fromMs: number, toMs: number): FaceSample[] {
  return samples.filter((sample) => sample.audioTimeMs >= fromMs && sample.audioTimeMs <= toMs);
}

describe('avatar lip-sync on the audio clock (Chromium, scripted voice with exact timings)', () => {
  it('closes the lips on every p, b and m of the timeline and opens them on the vowels around', async () => {
    let chunks: WireChunk[] = [];
    const { page, pageErrors } = await openApp(e2e, { beforeLoad: (p) => (chunks = captureTtsChunks(p)) });
    await page.evaluate(() => window.avatarLipSyncProbe!.start(4));
    await send(page, `say: ${REPLY}`);
    await waitForReplyEnd(e2e, page, 1);
    const samples = await page.evaluate(() => window.avatarLipSyncProbe!.stop());
    const schedules: ScheduleRecord[] = await page.evaluate(() => window.avatarLipSyncProbe!.schedules());

    expect(chunks.length).toBeGreaterThan(0);
    const frames = samples.filter((sample) => sample.source === 'frame');
    expect(frames.length).toBeGreaterThan(0);
    // Every rendered frame published the default avatar's weight names.
    expect(Object.keys(frames[0]!.weights)).toEqual(expect.arrayContaining(['viseme_PP', 'viseme_aa', 'eyeBlinkLeft']));

    let bilabials = 0;
    let covered = 0;
    const failures: string[] = [];
    for (const chunk of chunks.sort((a, b) => a.seq - b.seq)) {
      // The chunk's audio start on the AudioContext clock: the schedule carrying this exact timeline.
      const schedule = schedules.find((record) => JSON.stringify(record.phonemes) === JSON.stringify(chunk.phonemes));
      expect(schedule, `chunk ${chunk.seq} was scheduled for playback`).toBeDefined();
      const baseMs = schedule!.startSec * 1000;
      chunk.phonemes.forEach((span, index) => {
        if (!BILABIALS.has(span.phoneme)) return;
        bilabials += 1;
        // The middle of the closure (coarticulation blends the edges).
        const quarter = (span.endMs - span.startMs) / 4;
        const inside = samplesIn(samples, baseMs + span.startMs + quarter, baseMs + span.endMs - quarter);
        if (inside.length === 0) return;
        covered += 1;
        for (const sample of inside) {
          if (sample.weights.viseme_PP! < 0.8 || sample.mouthOpen > 0.1) {
            failures.push(`${span.phoneme}@${span.startMs}ms (${sample.source}): PP ${sample.weights.viseme_PP}, jaw ${sample.mouthOpen.toFixed(3)}`);
          }
        }
        // The neighbouring vowels open the mouth (near their middle) and release the lips.
        for (const neighbour of [chunk.phonemes[index - 1], chunk.phonemes[index + 1]]) {
          if (!neighbour || !VOWELS.has(neighbour.phoneme)) continue;
          const middle = baseMs + (neighbour.startMs + neighbour.endMs) / 2;
          for (const sample of samplesIn(samples, middle - 10, middle + 10)) {
            // A short vowel between two bilabials ("Bob") still carries some closure from both sides.
            if (sample.mouthOpen < 0.25 || sample.weights.viseme_PP! > 0.4) {
              failures.push(`vowel ${neighbour.phoneme}@${neighbour.startMs}ms next to ${span.phoneme}: jaw ${sample.mouthOpen.toFixed(3)}, PP ${sample.weights.viseme_PP}`);
            }
          }
        }
      });
    }
    // "Papa bought a map. Mama made a mop, Bob." has 13 bilabials; nearly all must be observed.
    expect(bilabials).toBeGreaterThanOrEqual(12);
    expect(covered / bilabials).toBeGreaterThanOrEqual(0.8);
    expect(failures).toEqual([]);
    // And at rest again after the reply.
    const rest = await page.evaluate(() => window.avatarDiagnostics!);
    expect(rest.mouthOpen).toBeLessThan(0.01);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('has no probe on a page opened without ?testHooks=1, which still publishes its diagnostics', async () => {
    const { page, pageErrors } = await openPage(e2e, appHref(e2e));
    await waitForDiagnostics(e2e, page, 'a session', () => !!window.avatarDiagnostics?.sessionId, 60_000);
    expect(await page.evaluate(() => window.avatarLipSyncProbe === undefined)).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
