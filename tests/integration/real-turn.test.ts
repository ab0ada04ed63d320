import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import type { TurnJson } from '../../app/hosts/cli/turn-command';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';

/**
 * A real spoken conversation turn on this CPU with the development models, through the CLI and the
 * same engine and warm pool as the app: eSpeak asks a question → silero VAD → whisper tiny.en →
 * SmolLM2 → chunker → the Piper voice with its own exact phoneme durations. (The reply audio's
 * round trip through whisper, over several replies joined, is real-turn-roundtrip.test.ts.)
 */
const dev = await devModelsOrSkipReason();
const QUESTION = 'What is the capital of France?';

function cli(args: string[]): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(appRoot, 'app/hosts/cli/cli.ts'), ...args], {
    cwd: appRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`cli ${args[0]} failed (${result.status}):\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

describe.skipIf(!dev.ok)(`a real spoken turn on the development models${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  it('transcribes the question, answers, and speaks with an exact timeline and a full trace', { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'real-turn-'));
    const question = join(dir, 'question.wav');
    cli(['say', '--text', QUESTION, '--out', question]);
    cli(['turn', '--audio', question, '--out', dir, '--profile', 'dev']);
    const turn = JSON.parse(readFileSync(join(dir, 'turn.json'), 'utf8')) as TurnJson;

    expect(wordErrorRate(QUESTION, turn.transcript).wer).toBeLessThanOrEqual(0.34);
    expect(turn.status).toBe('complete');
    expect(turn.reply.trim().length).toBeGreaterThan(0);
    expect(turn.models.join('\n')).toMatch(/Piper/);

    // The Piper voice's timeline tiles the reply exactly (one sample = 1000/22050 ms).
    expect(turn.phonemes.length).toBeGreaterThan(3);
    expect(turn.phonemes[0]!.startMs).toBeCloseTo(0, 3);
    for (let i = 1; i < turn.phonemes.length; i++) expect(turn.phonemes[i]!.startMs).toBeCloseTo(turn.phonemes[i - 1]!.endMs, 3);
    expect(Math.abs(turn.phonemes.at(-1)!.endMs - turn.durationMs)).toBeLessThan(1000 / turn.sampleRateHz + 1e-6);

    const trace = turn.trace!;
    for (const field of ['speechEndMs', 'endpointMs', 'sttFinalMs', 'llmFirstTokenMs', 'ttsFirstAudioMs'] as const) expect(trace[field]).toBeTypeOf('number');
    expect(trace.ttsFirstAudioMs!).toBeGreaterThan(trace.sttFinalMs!);
  });
});
