import { useThree } from '@react-three/fiber';
import { type RefObject, useLayoutEffect, useMemo, useRef } from 'react';
import {
  type BufferGeometry,
  Color,
  DoubleSide,
  Float32BufferAttribute,
  FrontSide,
  type Group,
  type Material,
  type Mesh,
  MeshBasicMaterial,
  MeshPhysicalMaterial,
  type MeshPhysicalMaterialParameters,
  MeshStandardMaterial,
  type Side,
  SphereGeometry,
  type WebGLRenderer,
} from 'three';
import { AvatarFormat } from '../../shared/lipsync';
import type { AvatarPose, AvatarRig } from './avatar-rig';
import { buildCollarGeometry, buildEarGeometry, buildHairGeometry, buildNeckGeometry, buildTorsoGeometry } from './body-geometry';
import { CpuMorpher } from './cpu-morph';
import { buildFaceGeometry, EYE, eyeCentre, FACE_MATERIALS, type FaceGeometry, type FaceMaterial } from './face-geometry';
import { lightRig } from './light-rig';
import { MatcapBaker } from './matcap-bake';
import type { RenderQuality } from './render-quality';
import { stageViewQuaternion } from './stage-camera';
import { createVertexMatcapMaterial } from './vertex-matcap-material';
import { compactGeometry, mergeAtlasParts, setAtlasAttributes, splitBySide } from './atlas-geometry';

const IRIS_ANGLE = 0.56;
const PUPIL_ANGLE = 0.24;
const EYEBALL_ANGLE = 1.75;
const HEAD_PIVOT_Y = -0.85;

/** A surface of the avatar as the full-detail renderer shades it. */
interface Surface {
  /** `physical` adds sheen (skin, hair) and clearcoat (lips, eyes) to the standard model. */
  model: 'physical' | 'standard';
  parameters: MeshPhysicalMaterialParameters;
  /** Per-vertex colour multiplies the base colour (blush, iris pattern). */
  vertexColors?: boolean;
  side?: Side;
}

type SurfaceName = FaceMaterial | 'ear' | 'neck' | 'hair' | 'shirt' | 'collar' | 'sclera' | 'iris' | 'pupil';

const SURFACES: Readonly<Record<SurfaceName, Surface>> = {
  skin: { model: 'physical', parameters: { color: '#f3bf9c', roughness: 0.56, sheen: 0.5, sheenColor: new Color('#ff9a85'), sheenRoughness: 0.5 }, vertexColors: true },
  lips: { model: 'physical', parameters: { color: '#c9776f', roughness: 0.38, clearcoat: 0.25, clearcoatRoughness: 0.4 } },
  mouth: { model: 'standard', parameters: { color: '#3a1115', roughness: 1 }, side: DoubleSide },
  teeth: { model: 'standard', parameters: { color: '#f4efe4', roughness: 0.32 }, side: DoubleSide },
  tongue: { model: 'standard', parameters: { color: '#b9545c', roughness: 0.6 }, side: DoubleSide },
  lash: { model: 'standard', parameters: { color: '#1b100d', roughness: 0.8 }, side: DoubleSide },
  brow: { model: 'standard', parameters: { color: '#3d2519', roughness: 0.9 } },
  ear: { model: 'physical', parameters: { color: '#efbd9b', roughness: 0.6, sheen: 0.5, sheenColor: new Color('#ff9a85') } },
  // The neck sits in the head's shadow.
  neck: { model: 'physical', parameters: { color: '#d9a080', roughness: 0.65, sheen: 0.4, sheenColor: new Color('#ff9a85') } },
  hair: { model: 'physical', parameters: { color: '#3b2418', roughness: 0.58, sheen: 0.6, sheenColor: new Color('#8a5c3e'), sheenRoughness: 0.45 } },
  shirt: { model: 'standard', parameters: { color: '#2f6f78', roughness: 0.85 } },
  collar: { model: 'standard', parameters: { color: '#285e66', roughness: 0.85 } },
  sclera: { model: 'physical', parameters: { color: '#f6f2ec', roughness: 0.25, clearcoat: 1, clearcoatRoughness: 0.05 } },
  iris: { model: 'physical', parameters: { roughness: 0.35, clearcoat: 1, clearcoatRoughness: 0.05 }, vertexColors: true },
  pupil: { model: 'physical', parameters: { color: '#060608', roughness: 0.2, clearcoat: 1 } },
};

function litMaterial(surface: Surface, options: { vertexColors: boolean; side: Side }): Material {
  const parameters = { ...surface.parameters, ...options };
  if (surface.model === 'physical') return new MeshPhysicalMaterial(parameters);
  const { sheen: _sheen, sheenColor: _sheenColor, sheenRoughness: _sheenRoughness, clearcoat: _clearcoat, clearcoatRoughness: _clearcoatRoughness, ...standard } = parameters;
  return new MeshStandardMaterial(standard);
}

const SURFACE_NAMES = Object.keys(SURFACES) as SurfaceName[];

/** A surface's tile in the light detail's matcap atlas. */
const tileOf = (name: SurfaceName): number => SURFACE_NAMES.indexOf(name);

/** Full detail: each surface shaded by its own lit material. */
function litMaterials(): { materials: Record<SurfaceName, Material>; dispose(): void } {
  const materials = {} as Record<SurfaceName, Material>;
  for (const name of SURFACE_NAMES) {
    const surface = SURFACES[name];
    materials[name] = litMaterial(surface, { vertexColors: surface.vertexColors ?? false, side: surface.side ?? FrontSide });
  }
  return { materials, dispose: () => Object.values(materials).forEach((material) => material.dispose()) };
}

/**
 * Light detail: every surface's matcap baked from its full-detail material under the full-detail
 * lights (the stage's lights and camera never move relative to each other) into one atlas, read
 * per vertex by two materials (front faces; both faces), so surfaces that move together are one
 * draw: the same look at a fraction of the cost on software GL.
 */
function atlasMaterials(renderer: WebGLRenderer): { front: Material; both: Material; dispose(): void } {
  const baker = new MatcapBaker(renderer, lightRig('full'), stageViewQuaternion());
  const lit = SURFACE_NAMES.map((name) => litMaterial(SURFACES[name], { vertexColors: false, side: FrontSide }));
  const atlas = baker.bakeAtlas(lit);
  for (const material of lit) material.dispose();
  baker.disposeScene();
  const front = createVertexMatcapMaterial({ atlas, doubleSided: false, renderer });
  const both = createVertexMatcapMaterial({ atlas, doubleSided: true, renderer });
  return {
    front,
    both,
    dispose() {
      front.dispose();
      both.dispose();
      baker.disposeTextures();
    },
  };
}

/** Iris: a spherical cap with a radial gradient, darker limbal ring and fine streaks. */
function buildIrisGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(EYE.radius * 1.004, 48, 6, 0, Math.PI * 2, 0, IRIS_ANGLE);
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

/** The front 100° of the eyeball: lids and socket hide the rest at any gaze the idle motion makes. */
function buildEyeballGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(EYE.radius, 32, 12, 0, Math.PI * 2, 0, EYEBALL_ANGLE);
  geometry.rotateX(Math.PI / 2);
  return geometry;
}

function buildPupilGeometry(): BufferGeometry {
  const geometry = new SphereGeometry(EYE.radius * 1.008, 32, 3, 0, Math.PI * 2, 0, PUPIL_ANGLE);
  geometry.rotateX(Math.PI / 2);
  return geometry;
}

type Vec3 = readonly [number, number, number];

/** One mesh of the avatar: its geometry, material(s) and place in its group. */
interface MeshSpec {
  geometry: BufferGeometry;
  material: Material | Material[];
  position?: Vec3;
  rotation?: Vec3;
}

/** A surface of the avatar and its place in the group that moves it. */
interface PlacedSurface {
  geometry: BufferGeometry;
  surface: SurfaceName;
  position?: Vec3;
  rotation?: Vec3;
}

/** The groups that move the avatar's parts (the morphing face aside), each a list of placed surfaces. */
type Layout = Record<'chest' | 'neck' | 'headStill' | 'eye', PlacedSurface[]>;

const EAR_ROTATION = 0.3;

/** What sits where, for both details; `stillHead`: the skin no morph moves (forehead, skull, temples). */
function layoutOf(parts: ReturnType<typeof buildPartGeometries>, stillHead: BufferGeometry): Layout {
  return {
    chest: [
      { geometry: parts.torso, surface: 'shirt', position: [0, -1.16, -0.1] },
      { geometry: parts.collar, surface: 'collar', position: [0, -1.1, -0.1] },
    ],
    neck: [{ geometry: parts.neck, surface: 'neck', position: [0, -0.9, -0.16] }],
    headStill: [
      { geometry: stillHead, surface: 'skin' },
      { geometry: parts.hair, surface: 'hair' },
      { geometry: parts.ear, surface: 'ear', position: [0.79, -0.1, -0.1], rotation: [0, EAR_ROTATION, 0] },
      { geometry: parts.ear, surface: 'ear', position: [-0.79, -0.1, -0.1], rotation: [0, -EAR_ROTATION, 0] },
    ],
    eye: [
      { geometry: parts.eyeball, surface: 'sclera' },
      { geometry: parts.iris, surface: 'iris' },
      { geometry: parts.pupil, surface: 'pupil' },
    ],
  };
}

function mapLayout(layout: Layout, make: (placed: PlacedSurface[]) => MeshSpec[]): Record<keyof Layout, MeshSpec[]> {
  return { chest: make(layout.chest), neck: make(layout.neck), headStill: make(layout.headStill), eye: make(layout.eye) };
}

interface AvatarAssets {
  face: FaceGeometry;
  /** The morphing head's material(s), by its geometry's groups. */
  headMaterial: Material | Material[];
  /** Scaled by breath. */
  chest: MeshSpec[];
  neck: MeshSpec[];
  /** Turned with the head, never morphed. */
  headStill: MeshSpec[];
  /** Turned with the gaze (one set, drawn for both eyes). */
  eye: MeshSpec[];
  catchlight: MeshSpec;
  /** Light detail shapes the face in JavaScript (cpu-morph.ts); full detail uses the GPU's morph targets. */
  morpher: CpuMorpher | null;
  dispose(): void;
}

function buildPartGeometries() {
  return {
    hair: buildHairGeometry(),
    ear: buildEarGeometry(),
    neck: buildNeckGeometry(),
    torso: buildTorsoGeometry(),
    collar: buildCollarGeometry(),
    eyeball: buildEyeballGeometry(),
    iris: buildIrisGeometry(),
    pupil: buildPupilGeometry(),
    catchlight: new SphereGeometry(EYE.radius * 0.12, 12, 8),
  };
}

function catchlightMaterial(): Material {
  return new MeshBasicMaterial({ color: '#ffffff', transparent: true, opacity: 0.9 });
}

/** Full detail: one mesh per surface, each with its lit material, morphs on the GPU. */
function buildFullAssets(): AvatarAssets {
  const face = buildFaceGeometry();
  const parts = buildPartGeometries();
  const { materials, dispose } = litMaterials();
  const faceMaterials = FACE_MATERIALS.map((name) => materials[name]);
  const catchlight = catchlightMaterial();
  return {
    face,
    headMaterial: faceMaterials,
    // The face's still part is skin only (the light detail checks it), so the skin material draws it.
    ...mapLayout(layoutOf(parts, face.still), (placed) => placed.map(({ surface, ...spec }) => ({ ...spec, material: materials[surface] }))),
    catchlight: { geometry: parts.catchlight, material: catchlight },
    morpher: null,
    dispose() {
      for (const geometry of [face.geometry, face.still, ...Object.values(parts)]) geometry.dispose();
      dispose();
      catchlight.dispose();
    },
  };
}

/**
 * Light detail: the same surfaces from one matcap atlas, merged by what moves together: chest,
 * neck, the morphing face (front-faced and two-sided surfaces), the rest of the head (skull, hair,
 * ears), and each eye: 9 draws where full detail makes 22. Morphs in JavaScript.
 */
function buildLightAssets(renderer: WebGLRenderer): AvatarAssets {
  const face = buildFaceGeometry();
  const parts = buildPartGeometries();
  const { front, both, dispose } = atlasMaterials(renderer);
  const faceTiles = FACE_MATERIALS.map(tileOf);
  setAtlasAttributes(face.geometry, (vertex) => faceTiles[face.vertexMaterial[vertex]!]!);
  face.still.setAttribute('matcapTile', face.geometry.getAttribute('matcapTile'));
  const twoSided = (materialIndex: number): boolean => SURFACES[FACE_MATERIALS[materialIndex]!].side === DoubleSide;
  if (face.still.groups.some((group) => twoSided(group.materialIndex ?? 0))) throw new Error('the still part of the head has a two-sided surface');
  const still = compactGeometry(face.still);
  splitBySide(face.geometry, twoSided);
  const specs = mapLayout(layoutOf(parts, still), (placed) => [
    { geometry: mergeAtlasParts(placed.map(({ surface, ...part }) => ({ ...part, tile: tileOf(surface) }))), material: front },
  ]);
  for (const [name, geometry] of Object.entries(parts)) if (name !== 'catchlight') geometry.dispose();
  still.dispose();
  face.still.dispose();
  const catchlight = catchlightMaterial();
  return {
    face,
    headMaterial: [front, both],
    ...specs,
    catchlight: { geometry: parts.catchlight, material: catchlight },
    morpher: new CpuMorpher(face.geometry),
    dispose() {
      for (const geometry of [face.geometry, parts.catchlight, ...Object.values(specs).flatMap((list) => list.map((spec) => spec.geometry))]) geometry.dispose();
      dispose();
      catchlight.dispose();
    },
  };
}

function buildAssets(detail: RenderQuality['detail'], renderer: WebGLRenderer): AvatarAssets {
  return detail === 'full' ? buildFullAssets() : buildLightAssets(renderer);
}

function Meshes({ specs }: { specs: readonly MeshSpec[] }) {
  return (
    <>
      {specs.map((spec, index) => (
        <mesh key={index} geometry={spec.geometry} material={spec.material} position={spec.position} rotation={spec.rotation} />
      ))}
    </>
  );
}

function Eye({ side, assets, eyeRef }: { side: 1 | -1; assets: AvatarAssets; eyeRef: RefObject<Group | null> }) {
  const centre = eyeCentre(side);
  return (
    <group position={[centre.x, centre.y - HEAD_PIVOT_Y, centre.z]}>
      <group ref={eyeRef}>
        <Meshes specs={assets.eye} />
      </group>
      {/* The catchlight stays with the light, not with the gaze. */}
      <mesh
        geometry={assets.catchlight.geometry}
        material={assets.catchlight.material}
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
  const renderer = useThree((three) => three.gl);
  const assets = useMemo(() => buildAssets(detail, renderer), [detail, renderer]);
  const headMesh = useRef<Mesh>(null);
  const head = useRef<Group>(null);
  const body = useRef<Group>(null);
  const chest = useRef<Group>(null);
  const leftEye = useRef<Group>(null);
  const rightEye = useRef<Group>(null);

  useLayoutEffect(() => {
    const mesh = headMesh.current;
    if (!mesh) return;
    const names = assets.face.morphTargetNames;
    const { morpher } = assets;
    if (morpher) {
      // The same influences API as GPU morph targets; the morpher turns them into vertices.
      mesh.morphTargetDictionary = Object.fromEntries(names.map((name, target) => [name, target]));
      mesh.morphTargetInfluences = names.map(() => 0);
      mesh.userData.applyMorphTargets = () => morpher.apply(mesh.morphTargetInfluences!);
    } else {
      mesh.updateMorphTargets();
    }
    const dictionary = mesh.morphTargetDictionary ?? {};
    const influences = mesh.morphTargetInfluences ?? [];
    const rig: AvatarRig = {
      info: { kind: 'default', name: 'Default avatar', format: AvatarFormat.DefaultAvatar },
      morphTargetNames: names,
      apply(weights: Readonly<Record<string, number>>, pose: AvatarPose) {
        for (const name of names) {
          const index = dictionary[name];
          if (index !== undefined) influences[index] = weights[name] ?? 0;
        }
        morpher?.apply(influences);
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

  useLayoutEffect(() => () => assets.dispose(), [assets]);

  return (
    <group ref={body}>
      <group ref={chest}>
        <Meshes specs={assets.chest} />
      </group>
      <Meshes specs={assets.neck} />
      <group ref={head} position={[0, HEAD_PIVOT_Y, 0]}>
        <group position={[0, -HEAD_PIVOT_Y, 0]}>
          <mesh ref={headMesh} geometry={assets.face.geometry} material={assets.headMaterial} name="AvatarHead" />
          <Meshes specs={assets.headStill} />
        </group>
        <Eye side={1} assets={assets} eyeRef={leftEye} />
        <Eye side={-1} assets={assets} eyeRef={rightEye} />
      </group>
    </group>
  );
}
