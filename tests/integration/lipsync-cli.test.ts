import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VISEMES } from '../../app/shared/phoneme.contract';
import { mean, onsetErrorsMs } from '../../bench/lipsync-metrics';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../app/hosts/cli/cli.ts');

/** Runs `npm run cli -- …` the way the script does (tsx), as a child process. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

const span = { startMs: z.number().int().nonnegative(), endMs: z.number().int().positive() };
const TimelineSchema = z
  .object({
    phonemes: z.array(z.object({ phoneme: z.string().min(1), ...span }).strict()),
    visemes: z.array(z.object({ viseme: z.enum(VISEMES), ...span }).strict()).min(1),
  })
  .strict();

const TEXT = 'Maybe the big brown bear sleeps all winter.';

describe('npm run cli (child process)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lipsync-cli-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('say writes the WAV and its exact timeline; align recovers that timeline from the WAV and the text', { timeout: 240_000 }, async () => {
    const wav = join(dir, 'said.wav');
    const said = await runCli(['say', '--text', TEXT, '--out', wav, '--voice', 'en-us+m7', '--speed', '1.2']);
    expect(said.code, said.stderr).toBe(0);
    expect(existsSync(wav)).toBe(true);
    const truth = TimelineSchema.parse(JSON.parse(readFileSync(`${wav}.timeline.json`, 'utf8')));
    expect(truth.phonemes.map((p) => p.phoneme)).toContain('b');
    expect(truth.visemes.map((v) => v.viseme)).toContain('PP');
    for (let index = 1; index < truth.phonemes.length; index++) expect(truth.phonemes[index]!.startMs).toBe(truth.phonemes[index - 1]!.endMs);

    const out = join(dir, 'aligned.json');
    const aligned = await runCli(['align', '--audio', wav, '--text', TEXT, '--out', out]);
    expect(aligned.code, aligned.stderr).toBe(0);
    const timeline = TimelineSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(timeline.phonemes.map((p) => p.phoneme)).toEqual(truth.phonemes.map((p) => p.phoneme));
    expect(mean(onsetErrorsMs(truth.phonemes, timeline.phonemes))).toBeLessThanOrEqual(20);

    const audioOnly = join(dir, 'audio-only.json');
    const estimated = await runCli(['align', '--audio', wav, '--out', audioOnly]);
    expect(estimated.code, estimated.stderr).toBe(0);
    const fromAudio = TimelineSchema.parse(JSON.parse(readFileSync(audioOnly, 'utf8')));
    expect(fromAudio.phonemes).toEqual([]);
    expect(new Set(fromAudio.visemes.map((v) => v.viseme)).size).toBeGreaterThan(4);
  });

  it('reports usage mistakes with exit code 2 and unreadable audio with exit code 1', { timeout: 120_000 }, async () => {
    const missing = await runCli(['align', '--text', 'hello']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--audio');
    const unknown = await runCli(['dance']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('align');
    const unreadable = await runCli(['align', '--audio', join(dir, 'nope.wav'), '--out', join(dir, 'x.json')]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toContain('bad_audio');
  });
});
