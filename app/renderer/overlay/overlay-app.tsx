import { useEffect } from 'react';
import { AvatarScene } from '../avatar/avatar-scene';
import { SceneBoundary } from '../avatar/scene-boundary';
import type { Runtime } from '../state/runtime';
import { useMic } from '../ui/use-mic';

/**
 * `?overlay=1`: the avatar alone on a transparent page, for the desktop overlay window (and any
 * compositor). No panels or buttons; the conversation goes on by voice (M turns the microphone on
 * and off, Space talks in push-to-talk mode, Esc stops the avatar talking). The whole page is the
 * window's drag region (styles.css), so the frameless window moves by dragging the avatar.
 */
export function OverlayApp({ runtime }: { runtime: Runtime }) {
  useMic(runtime);
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') runtime.interrupt();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [runtime]);

  return (
    <main className="stage overlay-stage" aria-label="Avatar overlay">
      <SceneBoundary>
        <AvatarScene runtime={runtime} />
      </SceneBoundary>
    </main>
  );
}
