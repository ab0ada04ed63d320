import { describe, expect, it } from 'vitest';
import { runtimeHostEnv } from '../../app/engine/pool/host-launcher';

describe('runtime host environment', () => {
  it('keeps the runtimes offline and caps malloc arenas in every host', () => {
    for (const host of ['whisper', 'piper', 'llama', 'silero-vad']) {
      const env = runtimeHostEnv(host, { PATH: '/bin' });
      expect(env).toMatchObject({ PATH: '/bin', ORT_DISABLE_TELEMETRY: '1', MALLOC_ARENA_MAX: '2' });
    }
  });

  it('maps large blocks afresh only in the whisper and llama hosts', () => {
    expect(runtimeHostEnv('whisper', {}).MALLOC_MMAP_THRESHOLD_).toBe('1048576');
    expect(runtimeHostEnv('llama', {}).MALLOC_MMAP_THRESHOLD_).toBe('1048576');
    expect(runtimeHostEnv('piper', {}).MALLOC_MMAP_THRESHOLD_).toBeUndefined();
  });

  it('leaves the malloc settings a user chose', () => {
    const env = runtimeHostEnv('whisper', { MALLOC_ARENA_MAX: '8', MALLOC_MMAP_THRESHOLD_: '65536' });
    expect(env.MALLOC_ARENA_MAX).toBe('8');
    expect(env.MALLOC_MMAP_THRESHOLD_).toBe('65536');
  });
});
