import { useEffect } from 'react';
import { SharePresetNameSchema } from '../../shared/share.contract';
import { AvatarScene } from '../avatar/avatar-scene';
import type { Runtime } from '../state/runtime';
import { pageToken } from '../transport/page-token';
import { RemoteRenderer } from './remote-renderer';

/** The avatar's WebGL canvas inside the R3F wrapper. */
function avatarCanvas(): HTMLCanvasElement | null {
  return document.querySelector<HTMLCanvasElement>('.avatar-canvas canvas');
}

/** Nobody looks at a pooled page: the video carries a plain dark background (the stage gradient is CSS, not canvas). */
const REMOTE_BACKGROUND = '#1a222c';

/**
 * `/?token=…&remote=1[&sharePreset=720p30|1080p60]`: a pooled renderer for remote conversations
 * (serve's `--renderer-pool`, hidden windows in the app). Only the avatar, full-window; the
 * conversation happens with the remote talker, not on this page.
 */
export function RemoteApp({ runtime }: { runtime: Runtime }) {
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    const preset = SharePresetNameSchema.safeParse(params.get('sharePreset'));
    const remote = new RemoteRenderer({
      runtime,
      token: pageToken(),
      canvas: avatarCanvas,
      preset: preset.success ? preset.data : '720p30',
      background: REMOTE_BACKGROUND,
    });
    return () => remote.dispose();
  }, [runtime]);

  return (
    <main className="stage" style={{ height: '100%' }} aria-label="Pooled avatar renderer">
      <AvatarScene runtime={runtime} />
    </main>
  );
}
