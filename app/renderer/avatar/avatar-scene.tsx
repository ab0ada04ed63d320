import { Canvas, useThree } from '@react-three/fiber';
import { memo, type RefObject, useEffect, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { Runtime } from '../state/runtime';
import { AvatarAnimator, type SceneMotion } from './avatar-animator';
import type { AvatarRig } from './avatar-rig';
import { avatarStore } from './avatar-store';
import { applyBackgroundFromUrl, CHROMA_KEY_COLOR, getBackgroundMode, onBackgroundModeChange } from './background-mode';
import { DefaultAvatar } from './default-avatar';
import type { LoadedAvatar } from './load-avatar';
import { detectRenderQuality, type RenderQuality } from './render-quality';
import { ThoughtIndicator } from './thought-indicator';

/** Soft three-point lighting: warm key, cool fill, rim to separate the silhouette. */
function Lights({ detail }: { detail: RenderQuality['detail'] }) {
  return (
    <>
      {/* Light detail folds the faint bounce light from below into the sky light. */}
      <hemisphereLight args={['#fff4ea', '#3a4658', detail === 'light' ? 1.25 : 1.1]} />
      <directionalLight position={[2.5, 3, 5]} intensity={2.4} color="#fff1e3" />
      <directionalLight position={[-4, 1, 3]} intensity={0.7} color="#cfe0ff" />
      <directionalLight position={[1.5, 2, -5]} intensity={1.8} color="#ffe6c8" />
      {detail === 'full' && <directionalLight position={[-2, -3, 4]} intensity={0.35} color="#ffd9c9" />}
    </>
  );
}

/** Chroma mode paints the key colour into the canvas too, so captures of the canvas alone are keyed. */
function BackgroundClear() {
  const gl = useThree((three) => three.gl);
  useEffect(() => {
    // Mounted after the settings store published its saved mode: the URL's choice goes last.
    applyBackgroundFromUrl();
    const apply = (): void => {
      if (getBackgroundMode() === 'chroma') gl.setClearColor(CHROMA_KEY_COLOR, 1);
      else gl.setClearColor('#000000', 0);
    };
    apply();
    return onBackgroundModeChange(apply);
  }, [gl]);
  return null;
}

/** A user avatar from a file: its scene graph as loaded, its rig published for the animator. */
function LoadedAvatarView({ avatar, rigRef }: { avatar: LoadedAvatar; rigRef: RefObject<AvatarRig | null> }) {
  useLayoutEffect(() => {
    rigRef.current = avatar.rig;
    return () => {
      if (rigRef.current === avatar.rig) rigRef.current = null;
    };
  }, [avatar, rigRef]);
  return <primitive object={avatar.root} />;
}

/**
 * The 3D view: the default avatar or the user's, head and shoulders, framed for a portrait.
 * Memoised: the page re-renders a few times a second for its overlays, the scene need not.
 */
export const AvatarScene = memo(function AvatarScene({ runtime }: { runtime: Runtime }) {
  const rigRef = useRef<AvatarRig | null>(null);
  const motion = useMemo<SceneMotion>(() => ({ thinking: 0 }), []);
  const quality = useMemo(detectRenderQuality, []);
  const { avatar } = useSyncExternalStore(avatarStore.subscribe, avatarStore.getSnapshot);
  return (
    <Canvas
      className="avatar-canvas"
      dpr={quality.dpr}
      gl={{ antialias: quality.antialias, alpha: true, powerPreference: 'high-performance' }}
      camera={{ fov: 25, position: [0, -0.35, 9.2], near: 0.1, far: 50 }}
      onCreated={({ camera }) => camera.lookAt(0, -0.5, 0)}
      aria-label="Avatar"
      role="img"
    >
      <BackgroundClear />
      <Lights detail={quality.detail} />
      {avatar ? <LoadedAvatarView avatar={avatar} rigRef={rigRef} /> : <DefaultAvatar rigRef={rigRef} detail={quality.detail} />}
      <ThoughtIndicator motion={motion} />
      <AvatarAnimator runtime={runtime} rigRef={rigRef} motion={motion} />
    </Canvas>
  );
});
