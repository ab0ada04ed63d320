import { Canvas, useThree } from '@react-three/fiber';
import { memo, type RefObject, useEffect, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { Runtime } from '../state/runtime';
import { AvatarAnimator, type SceneMotion } from './avatar-animator';
import type { AvatarRig } from './avatar-rig';
import { avatarStore } from './avatar-store';
import { applyBackgroundFromUrl, CHROMA_KEY_COLOR, getBackgroundMode, onBackgroundModeChange } from './background-mode';
import { DefaultAvatar } from './default-avatar';
import { registerFrameloop } from './frameloop-control';
import type { LoadedAvatar } from './load-avatar';
import { lightRig } from './light-rig';
import { detectRenderQuality, type RenderQuality } from './render-quality';
import { STAGE_CAMERA } from './stage-camera';
import { ThoughtIndicator } from './thought-indicator';

/** The stage's lights (light-rig.ts): loaded avatars and the full-detail default avatar are lit by them. */
function Lights({ detail }: { detail: RenderQuality['detail'] }) {
  return (
    <>
      {lightRig(detail).map((light, index) =>
        light.kind === 'hemisphere' ? (
          <hemisphereLight key={index} args={[light.sky, light.ground, light.intensity]} />
        ) : (
          <directionalLight key={index} position={light.position} intensity={light.intensity} color={light.color} />
        ),
      )}
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

/** Hands the root's frameloop switch to frameloop-control.ts (the share paces frames with it). */
function FrameloopControl() {
  const setFrameloop = useThree((three) => three.setFrameloop);
  useEffect(() => registerFrameloop(setFrameloop), [setFrameloop]);
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
      camera={{ fov: STAGE_CAMERA.fovDeg, position: STAGE_CAMERA.position, near: STAGE_CAMERA.near, far: STAGE_CAMERA.far }}
      onCreated={({ camera }) => camera.lookAt(...STAGE_CAMERA.target)}
      aria-label="Avatar"
      role="img"
    >
      <BackgroundClear />
      <FrameloopControl />
      <Lights detail={quality.detail} />
      {avatar ? <LoadedAvatarView avatar={avatar} rigRef={rigRef} /> : <DefaultAvatar rigRef={rigRef} detail={quality.detail} />}
      <ThoughtIndicator motion={motion} />
      <AvatarAnimator runtime={runtime} rigRef={rigRef} motion={motion} />
    </Canvas>
  );
});
