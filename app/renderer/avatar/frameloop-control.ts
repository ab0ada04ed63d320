/**
 * Lets code outside the R3F tree take over the avatar's render loop: while a holder has it, the
 * scene's own requestAnimationFrame loop stops (`frameloop="never"`) and the holder renders each
 * frame itself with R3F's `advance()`. The share uses it to render no frame its capture cannot take
 * yet (share-compositor.ts); everything else keeps the default loop.
 */
export type Frameloop = 'always' | 'never';
type SetFrameloop = (frameloop: Frameloop) => void;

let setter: SetFrameloop | null = null;
let holders = 0;

function apply(): void {
  setter?.(holders > 0 ? 'never' : 'always');
}

/** Called by the scene with its root's `setFrameloop`; returns the unregistration. */
export function registerFrameloop(setFrameloop: SetFrameloop): () => void {
  setter = setFrameloop;
  apply();
  return () => {
    if (setter === setFrameloop) setter = null;
  };
}

/** Stops the scene's own loop until the returned release is called (once). */
export function holdFrameloop(): () => void {
  holders += 1;
  apply();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders -= 1;
    apply();
  };
}

/** Whether some holder drives the frames now. */
export function frameloopHeld(): boolean {
  return holders > 0;
}
