import type { AvatarState } from './diagnostics';

export interface AvatarStateInputs {
  /** Reply audio is reaching the ears now. */
  audible: boolean;
  /** Reply audio is scheduled and not yet heard to its end. */
  audioPending: boolean;
  /** A turn is in progress. */
  turnActive: boolean;
  /** The active turn's audio has been heard (a gap between its chunks is still speaking). */
  turnAudioStarted: boolean;
  /** The user is speaking. */
  listening: boolean;
}

/** thinking = a turn has started but none of its audio has been heard yet. */
export function avatarState(inputs: AvatarStateInputs): AvatarState {
  if (inputs.audible) return 'speaking';
  if (inputs.listening) return 'listening';
  if (inputs.turnActive && !inputs.turnAudioStarted) return 'thinking';
  if (inputs.turnActive || inputs.audioPending) return 'speaking';
  return 'idle';
}
