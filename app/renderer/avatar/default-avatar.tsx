import { type RefObject, useLayoutEffect, useMemo, useRef } from 'react';
import {
  type BufferGeometry,
  Color,
  DoubleSide,
  Float32BufferAttribute,
  type Group,
  type Material,
  type Mesh,
  MeshBasicMaterial,
  MeshLambertMaterial,
  MeshPhysicalMaterial,
  type MeshPhysicalMaterialParameters,
  MeshStandardMaterial,
  SphereGeometry,
} from 'three';
import { AvatarFormat } from '../../shared/lipsync';
import type { AvatarPose, AvatarRig } from './avatar-rig';
import { buildCollarGeometry, buildEarGeometry, buildHairGeometry, buildNeckGeometry, buildTorsoGeometry } from './body-geometry';
import { buildFaceGeometry, EYE, eyeCentre, FACE_MATERIALS, type FaceMaterial } from './face-geometry';
import type { RenderQuality } from './render-quality';

const IRIS_ANGLE = 0.56;
const PUPIL_ANGLE = 0.24;
const HEAD_PIVOT_Y = -0.85;

/**
 * Light detail keeps roughness but drops sheen and clearcoat: on software GL those extra lobes cost
 * more than the rest of the fragment shader. `sheenless` is the base colour that makes up for the
 * warmth the sheen added (hair and skin would look grey without it).
 */
function physical(light: boolean, parameters: MeshPhysicalMaterialParameters, sheenless?: string): Material {
  if (!light) return new MeshPhysicalMaterial(parameters);
  const { sheen: _sheen, sheenColor: _sheenColor, sheenRoughness: _sheenRoughness, clearcoat: _clearcoat, clearcoatRoughness: _clearcoatRoughness, ...standard } = parameters;
  return new MeshStandardMaterial(sheenless ? { ...standard, color: sheenless } : standard);
}

function faceMaterials(light: boolean): Material[] {
  const byName: Record<FaceMaterial, Material> = {
    skin: physical(light, {
      color: '#f3bf9c',
      roughness: 0.56,
      sheen: 0.5,
      sheenColor: new Color('#ff9a85'),
      sheenRoughness: 0.5,
      vertexColors: true,
    }, '#f7bb98'),
    lips: physical(light, { color: '#c9776f', roughness: 0.38, clearcoat: 0.25, clearcoatRoughness: 0.4 }),
    mouth: new MeshStandardMaterial({ color: '#3a1115', roughness: 1, side: DoubleSide }),
    teeth: new MeshStandardMaterial({ color: '#f4efe4', roughness: 0.32, side: DoubleSide }),
    tongue: new MeshStandardMaterial({ color: '#b9545c', roughness: 0.6, side: DoubleSide }),
    lash: new MeshStandardMaterial({ color: '#1b100d', roughness: 0.8, side: DoubleSide }),
    brow: new MeshStandardMaterial({ color: '#3d2519', roughness: 0.9 }),
  };
  return FACE_MATERIALS.map((name) => byName[name]);
}

/** Iris: a spherical cap with a radial gradient, darker limbal ring and fine streaks. */
function buildIrisGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(EYE.radius * 1.004, 48, 12, 0, Math.PI * 2, 0, IRIS_ANGLE);
  geometry.rotateX(Math.PI / 2);
  const position = geometry.getAttribute('position');
  const inner = new Color('#6fb0c4');
  const outer = new Color('#24586b');
  const ring = new Color('#10242c');
  const colors: number[] = [];
  const mixed = new Color();
  for (let i = 0; i < position.count; i += 1) {
    const x = position.getX(i);
    const y = position.getY(i);
    const z = position.getZ(i);
    const t = Math.acos(Math.min(1, z / (EYE.radius * 1.004))) / IRIS_ANGLE;
    const streak = 0.88 + 0.12 * Math.sin(Math.atan2(y, x) * 23) ** 2;
    mixed.copy(inner).lerp(outer, Math.min(1, t * 1.1)).lerp(ring, Math.max(0, (t - 0.82) / 0.18)).multiplyScalar(streak);
    colors.push(mixed.r, mixed.g, mixed.b);
  }
  geometry.setAttribute('color', new Float32BufferAttribute(colors, 3));
  return geometry;
}

function buildPupilGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(EYE.radius * 1.008, 32, 6, 0, Math.PI * 2, 0, PUPIL_ANGLE);
  geometry.rotateX(Math.PI / 2);
  return geometry;
}

interface AvatarAssets {
  face: { geometry: BufferGeometry; morphTargetNames: string[] };
  faceMaterials: Material[];
  hair: BufferGeometry;
  ear: BufferGeometry;
  neck: BufferGeometry;
  torso: BufferGeometry;
  collar: BufferGeometry;
  eyeball: BufferGeometry;
  iris: BufferGeometry;
  pupil: BufferGeometry;
  catchlight: BufferGeometry;
  materials: Record<'skin' | 'neck' | 'hair' | 'shirt' | 'collar' | 'sclera' | 'iris' | 'pupil' | 'catchlight', Material>;
}

function buildAssets(light: boolean): AvatarAssets {
  const face = buildFaceGeometry();
  const materials = faceMaterials(light);
  return {
    face,
    faceMaterials: materials,
    hair: buildHairGeometry(),
    ear: buildEarGeometry(),
    neck: buildNeckGeometry(),
    torso: buildTorsoGeometry(),
    collar: buildCollarGeometry(),
    eyeball: new SphereGeometry(EYE.radius, 40, 28),
    iris: buildIrisGeometry(),
    pupil: buildPupilGeometry(),
    catchlight: new SphereGeometry(EYE.radius * 0.12, 12, 8),
    materials: {
      skin: physical(light, { color: '#efbd9b', roughness: 0.6, sheen: 0.5, sheenColor: new Color('#ff9a85') }, '#f3b996'),
      // The neck sits in the head's shadow.
      neck: physical(light, { color: '#d9a080', roughness: 0.65, sheen: 0.4, sheenColor: new Color('#ff9a85') }, '#dd9f7e'),
      hair: physical(light, { color: '#3b2418', roughness: 0.58, sheen: 0.6, sheenColor: new Color('#8a5c3e'), sheenRoughness: 0.45 }, '#55321f'),
      // Rough cloth has almost no highlight: light detail shades it diffuse only (it is the largest area).
      shirt: light ? new MeshLambertMaterial({ color: '#2f6f78' }) : new MeshStandardMaterial({ color: '#2f6f78', roughness: 0.85 }),
      collar: light ? new MeshLambertMaterial({ color: '#285e66' }) : new MeshStandardMaterial({ color: '#285e66', roughness: 0.85 }),
      sclera: physical(light, { color: '#f6f2ec', roughness: 0.25, clearcoat: 1, clearcoatRoughness: 0.05 }),
      iris: physical(light, { vertexColors: true, roughness: 0.35, clearcoat: 1, clearcoatRoughness: 0.05 }),
      pupil: physical(light, { color: '#060608', roughness: 0.2, clearcoat: 1 }),
      catchlight: new MeshBasicMaterial({ color: '#ffffff', transparent: true, opacity: 0.9 }),
    },
  };
}

function Eye({ side, assets, eyeRef }: { side: 1 | -1; assets: AvatarAssets; eyeRef: RefObject<Group | null> }) {
  const centre = eyeCentre(side);
  return (
    <group position={[centre.x, centre.y - HEAD_PIVOT_Y, centre.z]}>
      <group ref={eyeRef}>
        <mesh geometry={assets.eyeball} material={assets.materials.sclera} />
        <mesh geometry={assets.iris} material={assets.materials.iris} />
        <mesh geometry={assets.pupil} material={assets.materials.pupil} />
      </group>
      {/* The catchlight stays with the light, not with the gaze. */}
      <mesh
        geometry={assets.catchlight}
        material={assets.materials.catchlight}
        position={[-0.32 * EYE.radius, 0.42 * EYE.radius, 0.86 * EYE.radius]}
        scale={[1, 1, 0.3]}
      />
    </group>
  );
}

/**
 * The built-in avatar: a stylized head and shoulders generated in code (no download), with the
 * 15 Oculus visemes, blinks, smile and brow morph targets. Exposes its rig through `rigRef`.
 */
export function DefaultAvatar({ rigRef, detail }: { rigRef: RefObject<AvatarRig | null>; detail: RenderQuality['detail'] }) {
  const assets = useMemo(() => buildAssets(detail === 'light'), [detail]);
  const headMesh = useRef<Mesh>(null);
  const head = useRef<Group>(null);
  const body = useRef<Group>(null);
  const chest = useRef<Group>(null);
  const leftEye = useRef<Group>(null);
  const rightEye = useRef<Group>(null);

  useLayoutEffect(() => {
    const mesh = headMesh.current;
    if (!mesh) return;
    mesh.updateMorphTargets();
    const dictionary = mesh.morphTargetDictionary ?? {};
    const influences = mesh.morphTargetInfluences ?? [];
    const names = assets.face.morphTargetNames;
    const rig: AvatarRig = {
      info: { kind: 'default', name: 'Default avatar', format: AvatarFormat.DefaultAvatar },
      morphTargetNames: names,
      apply(weights: Readonly<Record<string, number>>, pose: AvatarPose) {
        for (const name of names) {
          const index = dictionary[name];
          if (index !== undefined) influences[index] = weights[name] ?? 0;
        }
        head.current?.rotation.set(pose.headPitch, pose.headYaw, pose.headRoll, 'YXZ');
        if (chest.current) {
          chest.current.scale.set(1 + pose.breath * 0.012, 1 + pose.breath * 0.008, 1 + pose.breath * 0.02);
        }
        body.current?.position.set(0, pose.breath * 0.012, 0);
        for (const eye of [leftEye.current, rightEye.current]) eye?.rotation.set(-pose.gazePitch, pose.gazeYaw, 0, 'YXZ');
      },
    };
    rigRef.current = rig;
    return () => {
      rigRef.current = null;
    };
  }, [assets, rigRef]);

  useLayoutEffect(
    () => () => {
      const { face, hair, ear, neck, torso, collar, eyeball, iris, pupil, catchlight } = assets;
      for (const geometry of [face.geometry, hair, ear, neck, torso, collar, eyeball, iris, pupil, catchlight]) geometry.dispose();
      for (const material of [...assets.faceMaterials, ...Object.values(assets.materials)]) material.dispose();
    },
    [assets],
  );

  return (
    <group ref={body}>
      <group ref={chest}>
        <mesh geometry={assets.torso} material={assets.materials.shirt} position={[0, -1.16, -0.1]} />
        <mesh geometry={assets.collar} material={assets.materials.collar} position={[0, -1.1, -0.1]} />
      </group>
      <mesh geometry={assets.neck} material={assets.materials.neck} position={[0, -0.9, -0.16]} />
      <group ref={head} position={[0, HEAD_PIVOT_Y, 0]}>
        <group position={[0, -HEAD_PIVOT_Y, 0]}>
          <mesh ref={headMesh} geometry={assets.face.geometry} material={assets.faceMaterials} name="AvatarHead" />
          <mesh geometry={assets.hair} material={assets.materials.hair} />
          <mesh geometry={assets.ear} material={assets.materials.skin} position={[0.79, -0.1, -0.1]} rotation={[0, 0.3, 0]} />
          <mesh geometry={assets.ear} material={assets.materials.skin} position={[-0.79, -0.1, -0.1]} rotation={[0, -0.3, 0]} />
        </group>
        <Eye side={1} assets={assets} eyeRef={leftEye} />
        <Eye side={-1} assets={assets} eyeRef={rightEye} />
      </group>
    </group>
  );
}
