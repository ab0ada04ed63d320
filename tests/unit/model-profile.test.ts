import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROFILE_FILE_NAME } from '../../app/engine/models/dev-model-profile';
import { resolveProfile } from '../../app/engine/model-profile';

/** A damaged development models profile is named, set aside, and the app starts without it. */

let dir = '';
let devDir = '';
let profilePath = '';
const savedDevDir = process.env.AVATAR_DEV_MODELS_DIR;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avatar-profile-'));
  devDir = join(dir, 'dev-models');
  mkdirSync(devDir);
  profilePath = join(devDir, PROFILE_FILE_NAME);
  process.env.AVATAR_DEV_MODELS_DIR = devDir;
});

afterEach(() => {
  if (savedDevDir === undefined) delete process.env.AVATAR_DEV_MODELS_DIR;
  else process.env.AVATAR_DEV_MODELS_DIR = savedDevDir;
  rmSync(dir, { recursive: true, force: true });
});

describe('model profile with a damaged development models profile', () => {
  it.each([
    ['half a JSON file', '{ "profile": "dev", "llm": ', /not valid JSON/],
    ['JSON of another shape', '{ "profile": "dev", "llm": 42 }', /llm: /],
  ])('starts as if the development models were absent when it holds %s, naming the file and keeping it as .corrupt', async (_what, text, problem) => {
    writeFileSync(profilePath, text);
    const resolved = await resolveProfile({ profile: 'auto', modelsDir: join(dir, 'models') });
    expect(resolved.placeholders).toEqual(['llm', 'stt']);
    expect(resolved.config.workers.tts.engine).toBe('espeak');
    expect(resolved.warnings).toHaveLength(1);
    expect(resolved.warnings[0]).toMatch(/^The app starts as if the development models were absent: the development models profile /);
    expect(resolved.warnings[0]).toContain(`${profilePath} was unusable (`);
    expect(resolved.warnings[0]).toMatch(problem);
    expect(resolved.warnings[0]).toContain(`kept as ${profilePath}.corrupt`);
    expect(existsSync(profilePath)).toBe(false);
    expect(readFileSync(`${profilePath}.corrupt`, 'utf8')).toBe(text);
  });

  it('names the damaged file when the dev profile is asked for explicitly', async () => {
    writeFileSync(profilePath, 'not json');
    await expect(resolveProfile({ profile: 'dev' })).rejects.toThrow(
      new RegExp(`^The development models are not in place \\(the development models profile ${profilePath.replace(/[.]/g, '\\.')} was unusable \\(not valid JSON`),
    );
  });

  it('has no warning when there is no profile at all', async () => {
    const resolved = await resolveProfile({ profile: 'auto', modelsDir: join(dir, 'models') });
    expect(resolved.warnings).toEqual([]);
    expect(resolved.placeholders).toEqual(['llm', 'stt']);
  });
});
