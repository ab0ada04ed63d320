import { Canvas } from '@react-three/fiber';
import { useMemo, useRef } from 'react';
import type { Runtime } from '../state/runtime';
import { AvatarAnimator } from './avatar-animator';
import type { AvatarRig } from './avatar-rig';
import { DefaultAvatar } from './default-avatar';
import { detectRenderQuality } from './render-quality';

/** Soft three-point lighting: warm key, cool fill, rim to separate the silhouette. */
function Lights() {
  return (
    <>
      <hemisphereLight args={['#fff4ea', '#3a4658', 1.1]} />
      <directionalLight position={[2.5, 3, 5]} intensity={2.4} color="#fff1e3" />
      <directionalLight position={[-4, 1, 3]} intensity={0.7} color="#cfe0ff" />
      <directionalLight position={[1.5, 2, -5]} intensity={1.8} color="#ffe6c8" />
      <directionalLight position={[-2, -3, 4]} intensity={0.35} color="#ffd9c9" />
    </>
  );
}

/** The 3D view: the default avatar, head and shoulders, framed for a portrait. */
export function AvatarScene({ runtime }: { runtime: Runtime }) {
  const rigRef = useRef<AvatarRig | null>(null);
  const quality = useMemo(detectRenderQuality, []);
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
      <Lights />
      <DefaultAvatar rigRef={rigRef} />
      <AvatarAnimator runtime={runtime} rigRef={rigRef} />
    </Canvas>
  );
}
