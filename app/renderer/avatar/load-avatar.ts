import { VRMLoaderPlugin, VRMUtils, type VRM } from '@pixiv/three-vrm';
import { Box3, Group, type Mesh, type Object3D, TextureLoader, Vector3 } from 'three';
import { GLTFLoader, type GLTF, type GLTFParser } from 'three/addons/loaders/GLTFLoader.js';
import { AvatarFormat, OculusMorph } from '../../shared/lipsync';
import { invalidAvatar as invalid } from './avatar-refusal';
import type { AvatarInfo, AvatarKind, AvatarRig } from './avatar-rig';
import { FaceMixer } from './face-mix';
import { checkAvatarFileSize, checkGlbBudget } from './gltf-budget';
import { gltfJsonToGlb } from './gltf-json-to-glb';
import { GltfRig, normalizeMorphName } from './gltf-rig';
import { VrmRig } from './vrm-rig';

/** A user avatar ready for the scene: `root` is framed like the default head (2 units tall at the origin). */
export interface LoadedAvatar {
  root: Object3D;
  rig: AvatarRig;
  dispose(): void;
}

/** The default head's height in scene units; loaded faces are scaled to it. */
const FACE_HEIGHT = 1.9;
/** A standing human is about 7.5 heads tall (used when no separate face mesh exists). */
const HEADS_PER_BODY = 7.5;

const GLB_MAGIC = 0x46546c67;

/** The bytes as a GLB (a `.gltf` JSON is converted); anything else is refused in words. */
function asGlb(bytes: ArrayBuffer, fileName: string): ArrayBuffer {
  if (bytes.byteLength === 0) throw invalid(fileName, 'the file is empty.');
  checkAvatarFileSize(bytes.byteLength, fileName);
  const head = new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 64));
  if (bytes.byteLength >= 12 && new DataView(bytes).getUint32(0, true) === GLB_MAGIC) {
    const declared = new DataView(bytes).getUint32(8, true);
    if (declared > bytes.byteLength) throw invalid(fileName, `the file is truncated (${bytes.byteLength} of ${declared} bytes).`);
    return bytes;
  }
  const firstChar = new TextDecoder().decode(head).trimStart()[0];
  if (firstChar === '{') return gltfJsonToGlb(new TextDecoder().decode(bytes), fileName);
  throw invalid(fileName, 'it is neither a VRM/GLB (binary glTF) nor a .gltf file.');
}

function parseGltf(glb: ArrayBuffer, fileName: string): Promise<GLTF> {
  const loader = new GLTFLoader();
  loader.register((parser) => new VRMLoaderPlugin(parser));
  // The CSP allows images from blob: URLs but not fetch() of them, which three's ImageBitmapLoader
  // uses for embedded textures; <img>-based loading works under it.
  loader.register((parser: GLTFParser) => {
    parser.textureLoader = new TextureLoader(parser.options.manager);
    return { name: 'csp_texture_loader' };
  });
  return new Promise((resolve, reject) => {
    loader.parse(glb, '', resolve, (error) => reject(invalid(fileName, `the glTF data is damaged (${error instanceof Error ? error.message : String(error)}).`)));
  });
}

/** Every morph target name in the model, normalised. */
function morphNames(scene: Object3D): Set<string> {
  const names = new Set<string>();
  scene.traverse((object) => {
    for (const name of Object.keys((object as Mesh).morphTargetDictionary ?? {})) names.add(normalizeMorphName(name));
  });
  return names;
}

const OCULUS_NAMES = Object.values(OculusMorph).map(normalizeMorphName);

/** Oculus when most viseme morphs are there, ARKit when the jaw opens by name; otherwise none. */
function detectMorphFormat(names: Set<string>): AvatarFormat | null {
  if (OCULUS_NAMES.filter((name) => names.has(name)).length >= 10) return AvatarFormat.Oculus;
  if (names.has('jawopen')) return AvatarFormat.Arkit;
  return null;
}

/** The meshes that carry the mouth: their bounds locate the face for framing. */
function faceMeshes(scene: Object3D, mouthNames: readonly string[]): Mesh[] {
  const wanted = new Set(mouthNames.map(normalizeMorphName));
  const meshes: Mesh[] = [];
  scene.traverse((object) => {
    const mesh = object as Mesh;
    if (mesh.isMesh && Object.keys(mesh.morphTargetDictionary ?? {}).some((name) => wanted.has(normalizeMorphName(name)))) meshes.push(mesh);
  });
  return meshes;
}

function findHeadNode(scene: Object3D): Object3D | null {
  let head: Object3D | null = null;
  scene.traverse((object) => {
    if (!head && /(^|[^a-z])head$/i.test(object.name)) head = object;
  });
  return head;
}

/**
 * Scales and moves the model so its face fills the default head's place. A face mesh of its own
 * gives the face's bounds; when the mouth lives on a whole-body mesh, the head is the top of the
 * body (or around the head bone).
 */
function frame(model: Object3D, face: readonly Mesh[], headBone: Object3D | null): Group {
  model.updateMatrixWorld(true);
  // Bones count too: a head-only mesh on a full skeleton is a face, not a body.
  const body = new Box3().setFromObject(model);
  const point = new Vector3();
  model.traverse((node) => body.expandByPoint(node.getWorldPosition(point)));
  const box = new Box3();
  for (const mesh of face) box.expandByObject(mesh);
  const bodyHeight = Math.max(1e-6, body.max.y - body.min.y);
  const centre = new Vector3();
  let height: number;
  if (!box.isEmpty() && box.max.y - box.min.y < 0.5 * bodyHeight) {
    box.getCenter(centre);
    height = box.max.y - box.min.y;
  } else {
    height = bodyHeight / HEADS_PER_BODY;
    if (headBone) headBone.getWorldPosition(centre).add(new Vector3(0, height * 0.35, 0));
    else body.getCenter(centre).setY(body.max.y - height / 2);
  }
  const scale = FACE_HEIGHT / Math.max(1e-6, height);
  const root = new Group();
  root.name = 'LoadedAvatar';
  root.add(model);
  model.position.set(-centre.x, -centre.y, -centre.z);
  const pivot = new Group();
  pivot.add(root);
  pivot.scale.setScalar(scale);
  return pivot;
}

function vrmName(vrm: VRM, fileName: string): string {
  const meta = vrm.meta;
  const name = meta.metaVersion === '0' ? meta.title : meta.name;
  return name?.trim() || fileName;
}

/**
 * Parses a VRM (0.x or 1.0), GLB or self-contained glTF into an avatar. Mouths: VRM expressions
 * (aa ih ou ee oh / A I U E O), else ARKit blend shapes (jawOpen …), else Oculus visemes
 * (viseme_aa …). Files that would unpack to more than AVATAR_LIMITS allow are refused before
 * three.js sees them. Throws an AppError with the reason in words; nothing is changed on failure.
 */
export async function loadAvatar(bytes: ArrayBuffer, fileName: string): Promise<LoadedAvatar> {
  const glb = asGlb(bytes, fileName);
  checkGlbBudget(glb, fileName);
  const gltf = await parseGltf(glb, fileName);
  const vrm = gltf.userData.vrm as VRM | undefined;
  const dispose = (): void => VRMUtils.deepDispose(gltf.scene);
  try {
    if (vrm) {
      const kind: AvatarKind = vrm.meta.metaVersion === '0' ? 'vrm0' : 'vrm1';
      if (kind === 'vrm0') VRMUtils.rotateVRM0(vrm);
      if (!vrm.expressionManager?.getExpression('aa')) throw invalid(fileName, 'the VRM has no mouth expressions (aa / A).');
      const format = kind === 'vrm0' ? AvatarFormat.Vrm0 : AvatarFormat.Vrm1;
      const info: AvatarInfo = { kind, name: vrmName(vrm, fileName), format };
      const mouthMeshes = vrm.expressionManager.getExpression('aa')!.binds.flatMap((bind) => ('primitives' in bind ? (bind.primitives as Mesh[]) : []));
      const pivot = frame(vrm.scene, mouthMeshes, vrm.humanoid.getRawBoneNode('head'));
      const rig = new VrmRig(info, vrm, pivot, new FaceMixer(format).names);
      return { root: pivot, rig, dispose };
    }
    const format = detectMorphFormat(morphNames(gltf.scene));
    if (!format) {
      throw invalid(fileName, 'it has no mouth blend shapes; expected VRM expressions, ARKit (jawOpen …) or Oculus viseme (viseme_aa …) morph targets.');
    }
    const info: AvatarInfo = { kind: 'gltf', name: fileName.replace(/\.[^.]+$/, ''), format };
    const names = new FaceMixer(format).names;
    const head = findHeadNode(gltf.scene);
    const pivot = frame(gltf.scene, faceMeshes(gltf.scene, names), head);
    return { root: pivot, rig: new GltfRig(info, pivot, names, head), dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
