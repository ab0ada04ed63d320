import { useFrame } from '@react-three/fiber';
import { useLayoutEffect, useMemo, useRef } from 'react';
import { type Group, type Mesh, MeshBasicMaterial, SphereGeometry } from 'three';
import type { SceneMotion } from './avatar-animator';

/** Thought bubble: three dots rising from the head towards a small cloud (scene units, head = 2 tall). */
const DOTS: ReadonlyArray<{ position: [number, number, number]; radius: number }> = [
  { position: [0.86, 0.72, 0.4], radius: 0.045 },
  { position: [1.0, 0.92, 0.4], radius: 0.065 },
  { position: [1.16, 1.08, 0.4], radius: 0.085 },
];
const CLOUD: ReadonlyArray<{ position: [number, number, number]; radius: number }> = [
  { position: [1.3, 1.22, 0.3], radius: 0.14 },
  { position: [1.5, 1.29, 0.3], radius: 0.17 },
  { position: [1.7, 1.22, 0.3], radius: 0.14 },
];

/**
 * A visible "thinking" sign while the avatar waits for its first audio: dots that pulse one after
 * the other, rising towards a small cloud. Fades with the animator's thinking amount.
 */
export function ThoughtIndicator({ motion }: { motion: SceneMotion }) {
  const group = useRef<Group>(null);
  const dots = useRef<(Mesh | null)[]>([]);
  const assets = useMemo(
    () => ({
      sphere: new SphereGeometry(1, 20, 14),
      material: new MeshBasicMaterial({ color: '#f4f7fb', transparent: true, opacity: 0, depthWrite: false }),
    }),
    [],
  );
  useLayoutEffect(
    () => () => {
      assets.sphere.dispose();
      assets.material.dispose();
    },
    [assets],
  );

  useFrame((three) => {
    const amount = motion.thinking;
    const visible = amount > 0.02;
    if (group.current) group.current.visible = visible;
    if (!visible) return;
    assets.material.opacity = 0.92 * Math.min(1, amount * 1.2);
    const timeSec = three.clock.elapsedTime;
    dots.current.forEach((dot, index) => {
      // One dot after the other swells, like "…" being typed.
      const pulse = 0.5 + 0.5 * Math.sin(timeSec * 5 - index * 1.1);
      dot?.scale.setScalar(DOTS[index]!.radius * (0.75 + 0.45 * pulse) * amount);
    });
  });

  return (
    <group ref={group} visible={false}>
      {DOTS.map((dot, index) => (
        <mesh
          key={`dot-${index}`}
          ref={(mesh) => {
            dots.current[index] = mesh;
          }}
          geometry={assets.sphere}
          material={assets.material}
          position={dot.position}
        />
      ))}
      {CLOUD.map((puff, index) => (
        <mesh key={`cloud-${index}`} geometry={assets.sphere} material={assets.material} position={puff.position} scale={puff.radius} />
      ))}
    </group>
  );
}
