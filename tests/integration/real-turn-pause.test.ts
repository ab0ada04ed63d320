import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { resample, writeWavFile } from '../../app/engine/lipsync/wav-file';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import type { TurnJson } from '../../app/hosts/cli/turn-command';
import { PiperVoice } from '../../app/native-workers/piper/piper-voice';

/**
 * A question spoken with a thinking pause — "I was wondering… (0.7 s) whether you could tell me a
 * joke about cats" — through `npm run cli -- turn` on the development models (silero VAD, Smart Turn,
 * whisper tiny.en, SmolLM2, Piper). The end-of-turn model keeps the turn open over the pause, so the
 * whole question is heard and answered once (before it, the first half was answered on its own).
 */
const dev = await devModelsOrSkipReason();
const FIRST = 'I was wondering';
const SECOND = 'whether you could tell me a joke about cats.';

const skipReason = !dev.ok ? dev.skipReason : dev.profile.turn ? null : 'the development models predate the end-of-turn model: run `npm run models -- dev`';

describe.skipIf(skipReason !== null)(`a question with a thinking pause${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('is heard whole and answered once', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'real-turn-pause-'));
    if (!dev.ok) return;
    const voice = await PiperVoice.load({ modelPath: dev.profile.tts.piperOnnxPath, cacheDir: join(dir, 'piper'), noiseScale: 0, noiseW: 0 });
    const first = await voice.synthesize(FIRST);
    const second = await voice.synthesize(SECOND);
    const rate = 16_000;
    const a = resample(first.pcm, first.sampleRateHz, rate);
    const b = resample(second.pcm, second.sampleRateHz, rate);
    const pauseSamples = 0.7 * rate;
    // Trailing silence longer than the longest pause the end-of-turn model may wait out.
    const pcm = new Float32Array(a.length + pauseSamples + b.length + 2.5 * rate);
    pcm.set(a, 0);
    pcm.set(b, a.length + pauseSamples);
    const question = join(dir, 'question.wav');
    await writeWavFile(question, { pcm, sampleRateHz: rate });

    const result = spawnSync(process.execPath, ['--import', 'tsx', join(appRoot, 'app/hosts/cli/cli.ts'), 'turn', '--audio', question, '--out', dir, '--profile', 'dev'], {
      cwd: appRoot,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/turn: Smart Turn/);
    const turn = JSON.parse(readFileSync(join(dir, 'turn.json'), 'utf8')) as TurnJson;
    // Both halves reached the transcript of one turn.
    expect(turn.transcript.toLowerCase()).toMatch(/wonder/);
    expect(turn.transcript.toLowerCase()).toMatch(/cat/);
    expect(wordErrorRate(`${FIRST} ${SECOND}`, turn.transcript).wer).toBeLessThanOrEqual(0.34);
    expect(turn.status).toBe('complete');
    expect(turn.reply.trim().length).toBeGreaterThan(0);
  });
});
