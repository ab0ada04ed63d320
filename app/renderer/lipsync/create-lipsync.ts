import { ScheduledVisemeTrack } from '../../shared/lipsync';
import type { LipSync } from './lipsync';

/** The renderer's lip-sync: the shared viseme track (coarticulation, PP hold, diphthongs). */
export function createLipSync(): LipSync {
  return new ScheduledVisemeTrack();
}
