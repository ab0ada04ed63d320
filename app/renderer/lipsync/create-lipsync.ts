import { ScheduledVisemeTrack } from '../../shared/lipsync';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import type { ChunkKey, LipSync } from './lipsync';
import { lipSyncProbe } from './lipsync-probe';

/** The renderer's lip-sync: the shared viseme track (coarticulation, PP hold, diphthongs). */
export function createLipSync(): LipSync {
  const track = new ScheduledVisemeTrack();
  return {
    schedule(phonemes: readonly PhonemeSpan[], startSec: number, chunk?: ChunkKey): void {
      // The probe keeps each timeline with its start time, so tests can find phonemes on the clock.
      lipSyncProbe.recordSchedule(phonemes, startSec, chunk);
      track.schedule(phonemes, startSec);
    },
    cut: (cutSec) => track.cut(cutSec),
    sample: (timeSec) => track.sample(timeSec),
  };
}
