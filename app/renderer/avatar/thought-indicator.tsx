import { useFrame } from '@react-three/fiber';
import { useLayoutEffect, useMemo, useRef } from 'react';
import { type Group, type Mesh, MeshBasicMaterial, SphereGeometry } from 'three';
import type { SceneMotion } from './avatar-animator';

/**
 * Thought bubble on the avatar's right (screen left, clear of the overlays): three dots rising from
 * the head towards a small cloud (scene units, head = 2 tall, centred at the origin).
 */
const DOTS: ReadonlyArray<{ position: [number, number, number]; radius: number }> = [
  { position: [-0.88, 0.42, 0.4], radius: 0.04 },
  { position: [-0.98, 0.58, 0.4], radius: 0.055 },
  { position: [-1.1, 0.74, 0.4], radius: 0.07 },
];
const CLOUD: ReadonlyArray<{ position: [number, number, number]; radius: number }> = [
  { position: [-1.14, 0.96, 0.3], radius: 0.11 },
  { position: [-1.31, 1.02, 0.3], radius: 0.14 },
  { position: [-1.49, 0.96, 0.3], radius: 0.11 },
  { position: [-1.31, 0.9, 0.32], radius: 0.1 },
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
    // Shown only well into the thinking look, so it is gone as soon as speech starts.
    const amount = Math.max(0, (motion.thinking - 0.3) / 0.7);
    const visible = amount > 0.02;
    if (group.current) group.current.visible = visible;
    if (!visible) return;
    assets.material.opacity = 0.92 * amount;
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
