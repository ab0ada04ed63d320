import { z } from 'zod';
import { AVATAR_LIMITS, formatBytes } from './avatar-limits';
import { avatarTooLarge, invalidAvatar } from './avatar-refusal';
import { readImageSize } from './image-size';

/** What a GLB will cost once three.js has unpacked it (every figure within AVATAR_LIMITS). */
export interface GlbBudget {
  /** Accessor arrays plus textures at 4 bytes per pixel. */
  decodedBytes: number;
  bufferViewBytes: number;
  vertices: number;
  morphTargetVertices: number;
}

const GLB_MAGIC = 0x46546c67;
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

/** Bytes per component (glTF componentType) and components per element (glTF type). */
const COMPONENT_BYTES = new Map([
  [5120, 1],
  [5121, 1],
  [5122, 2],
  [5123, 2],
  [5125, 4],
  [5126, 4],
]);
const UNSIGNED_INDEX_TYPES = new Set([5121, 5123, 5125]);
const TYPE_COMPONENTS = new Map([
  ['SCALAR', 1],
  ['VEC2', 2],
  ['VEC3', 3],
  ['VEC4', 4],
  ['MAT2', 4],
  ['MAT3', 9],
  ['MAT4', 16],
]);

// Only the fields that decide the cost are read; everything else is three.js's business.
const Whole = z.number().refine((value) => Number.isInteger(value) && value >= 0, 'must be a whole number');
const Items = z.array(z.unknown()).nullish();
const Range = { bufferView: Whole, byteOffset: Whole.default(0) };
const AccessorSchema = z.object({
  bufferView: Whole.optional(),
  byteOffset: Whole.default(0),
  componentType: z.number(),
  count: Whole,
  type: z.string(),
  sparse: z
    .object({ count: Whole, indices: z.object({ ...Range, componentType: z.number() }), values: z.object(Range) })
    .optional(),
});
const PrimitiveSchema = z.object({
  attributes: z.record(z.string(), Whole),
  indices: Whole.optional(),
  targets: z.array(z.record(z.string(), Whole)).optional(),
});
const ExpressionSchema = z.object({ morphTargetBinds: Items, materialColorBinds: Items, textureTransformBinds: Items });
const VrmExtensionsSchema = z.object({
  VRMC_vrm: z
    .object({
      expressions: z.object({ preset: z.record(z.string(), ExpressionSchema).nullish(), custom: z.record(z.string(), ExpressionSchema).nullish() }).nullish(),
    })
    .nullish(),
  VRMC_springBone: z
    .object({
      colliderGroups: z.array(z.object({ colliders: Items })).nullish(),
      springs: z.array(z.object({ joints: Items, colliderGroups: z.array(Whole).nullish() })).nullish(),
    })
    .nullish(),
  VRM: z
    .object({
      blendShapeMaster: z.object({ blendShapeGroups: z.array(z.object({ binds: Items, materialValues: Items })).nullish() }).nullish(),
      secondaryAnimation: z
        .object({
          boneGroups: z.array(z.object({ bones: z.array(Whole).nullish(), colliderGroups: z.array(Whole).nullish() })).nullish(),
          colliderGroups: z.array(z.object({ colliders: Items })).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});
const GltfSchema = z.object({
  buffers: z.array(z.object({ byteLength: Whole, uri: z.string().optional() })).default([]),
  bufferViews: z.array(z.object({ buffer: Whole, byteOffset: Whole.default(0), byteLength: Whole, byteStride: Whole.optional() })).default([]),
  accessors: z.array(AccessorSchema).default([]),
  meshes: z.array(z.object({ name: z.string().optional(), primitives: z.array(PrimitiveSchema) })).default([]),
  nodes: z.array(z.object({ children: z.array(Whole).optional() })).default([]),
  images: z.array(z.object({ bufferView: Whole.optional(), uri: z.string().optional() })).default([]),
  extensions: VrmExtensionsSchema.optional(),
});
type Gltf = z.infer<typeof GltfSchema>;

/** Top-level arrays counted before the JSON is validated in detail, with their names in words. */
const COUNTED = [
  ['nodes', 'nodes (scene objects)', AVATAR_LIMITS.nodes],
  ['meshes', 'meshes', AVATAR_LIMITS.meshes],
  ['materials', 'materials', AVATAR_LIMITS.materials],
  ['textures', 'textures', AVATAR_LIMITS.textures],
  ['images', 'images', AVATAR_LIMITS.images],
  ['accessors', 'accessors (data arrays)', AVATAR_LIMITS.accessors],
  ['bufferViews', 'buffer views', AVATAR_LIMITS.bufferViews],
] as const;

/** Refuses, before anything is read, a file larger than an avatar may be. */
export function checkAvatarFileSize(sizeBytes: number, fileName: string): void {
  if (sizeBytes > AVATAR_LIMITS.fileBytes) {
    throw avatarTooLarge(fileName, `the file is ${formatBytes(sizeBytes)}, more than the ${formatBytes(AVATAR_LIMITS.fileBytes)} an avatar file may be`);
  }
}

/**
 * Checks a GLB (VRM, or a .gltf already packed as GLB) before three.js parses it: every array,
 * texture and morph target it would unpack is sized from the JSON and image headers, ranges are
 * checked against the bytes really present, and the scene graph must be a tree (a loop would leave
 * the loader waiting forever). Throws an AppError in words; returns the costs when within limits.
 */
export function checkGlbBudget(glb: ArrayBuffer, fileName: string): GlbBudget {
  const damaged = (what: string): Error => invalidAvatar(fileName, `the glTF data is damaged (${what}).`);
  const tooLarge = (what: string): Error => avatarTooLarge(fileName, what);
  checkAvatarFileSize(glb.byteLength, fileName);
  const { json, bin } = readChunks(glb, damaged, tooLarge);
  const gltf = parseJson(json, damaged, tooLarge);
  const buffers = bufferBytes(gltf, bin, fileName, damaged);

  let bufferViewBytes = 0;
  gltf.bufferViews.forEach((view, index) => {
    const buffer = buffers[view.buffer];
    if (!buffer) throw damaged(`buffer view ${index} uses buffer ${view.buffer}, which does not exist`);
    if (view.byteOffset + view.byteLength > buffer.length) {
      throw damaged(`buffer view ${index} ends at byte ${view.byteOffset + view.byteLength} of buffer ${view.buffer}, which has ${buffer.length}`);
    }
    if (view.byteStride !== undefined && (view.byteStride < 4 || view.byteStride > 252 || view.byteStride % 4 !== 0)) {
      throw damaged(`buffer view ${index} has a byte stride of ${view.byteStride}`);
    }
    bufferViewBytes += view.byteLength;
  });
  if (bufferViewBytes > AVATAR_LIMITS.bufferViewBytes) {
    throw tooLarge(`its buffer views add up to ${formatBytes(bufferViewBytes)}, more than the ${formatBytes(AVATAR_LIMITS.bufferViewBytes)} an avatar may use`);
  }

  let decodedBytes = 0;
  const addDecoded = (bytes: number, what: string): void => {
    decodedBytes += bytes;
    const limit = formatBytes(AVATAR_LIMITS.decodedBytes);
    if (bytes > AVATAR_LIMITS.decodedBytes) throw tooLarge(`${what}, ${formatBytes(bytes)} once unpacked; an avatar may use up to ${limit}`);
    if (decodedBytes > AVATAR_LIMITS.decodedBytes) {
      throw tooLarge(`${what} (${formatBytes(bytes)}), which brings the file to ${formatBytes(decodedBytes)} once unpacked; an avatar may use up to ${limit}`);
    }
  };
  const fits = (viewIndex: number, endByte: number, what: string): void => {
    const view = gltf.bufferViews[viewIndex];
    if (!view) throw damaged(`${what} uses buffer view ${viewIndex}, which does not exist`);
    if (endByte > view.byteLength) throw damaged(`${what} needs ${endByte} bytes of buffer view ${viewIndex}, which has ${view.byteLength}`);
  };

  gltf.accessors.forEach((accessor, index) => {
    const componentBytes = COMPONENT_BYTES.get(accessor.componentType);
    const components = TYPE_COMPONENTS.get(accessor.type);
    if (!componentBytes || !components) throw damaged(`accessor ${index} has an unknown type ${accessor.type} / ${accessor.componentType}`);
    const elementBytes = componentBytes * components;
    addDecoded(accessor.count * elementBytes, `accessor ${index} declares ${accessor.count.toLocaleString('en')} ${accessor.type} values`);
    if (accessor.bufferView !== undefined && accessor.count > 0) {
      const stride = gltf.bufferViews[accessor.bufferView]?.byteStride ?? elementBytes;
      fits(accessor.bufferView, accessor.byteOffset + stride * (accessor.count - 1) + elementBytes, `accessor ${index}`);
    }
    const sparse = accessor.sparse;
    if (sparse) {
      const indexBytes = COMPONENT_BYTES.get(sparse.indices.componentType);
      if (!UNSIGNED_INDEX_TYPES.has(sparse.indices.componentType) || !indexBytes) throw damaged(`accessor ${index} has sparse indices of type ${sparse.indices.componentType}`);
      if (sparse.count < 1 || sparse.count > accessor.count) throw damaged(`accessor ${index} replaces ${sparse.count} of its ${accessor.count} values`);
      fits(sparse.indices.bufferView, sparse.indices.byteOffset + sparse.count * indexBytes, `accessor ${index}'s sparse indices`);
      fits(sparse.values.bufferView, sparse.values.byteOffset + sparse.count * elementBytes, `accessor ${index}'s sparse values`);
    }
  });

  const { vertices, morphTargetVertices } = checkMeshes(gltf, damaged, tooLarge);
  checkSceneTree(gltf, damaged);

  gltf.images.forEach((image, index) => {
    const bytes = imageBytes(gltf, buffers, index, fileName, damaged);
    if (!bytes) return;
    const size = readImageSize(bytes);
    if (!size) throw invalidAvatar(fileName, `image ${index} is not a PNG, JPEG, WebP or KTX2 image whose size can be read.`);
    const side = AVATAR_LIMITS.imageSidePixels;
    if (size.widthPx > side || size.heightPx > side) {
      throw tooLarge(`image ${index} is ${size.widthPx}×${size.heightPx} pixels; textures may be up to ${side}×${side}`);
    }
    addDecoded(size.widthPx * size.heightPx * 4 * size.slices, `image ${index} is ${size.widthPx}×${size.heightPx} pixels`);
  });

  checkVrm(gltf, tooLarge);
  return { decodedBytes, bufferViewBytes, vertices, morphTargetVertices };
}

function readChunks(glb: ArrayBuffer, damaged: (what: string) => Error, tooLarge: (what: string) => Error): { json: Uint8Array; bin: Uint8Array | null } {
  const view = new DataView(glb);
  if (glb.byteLength < 20 || view.getUint32(0, true) !== GLB_MAGIC) throw damaged('no binary glTF header');
  if (view.getUint32(4, true) !== 2) throw damaged(`glTF container version ${view.getUint32(4, true)}, expected 2`);
  const end = Math.min(glb.byteLength, view.getUint32(8, true));
  const jsonBytes = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON) throw damaged('the first chunk is not JSON');
  if (jsonBytes > AVATAR_LIMITS.jsonBytes) {
    throw tooLarge(`its glTF JSON is ${formatBytes(jsonBytes)}, more than the ${formatBytes(AVATAR_LIMITS.jsonBytes)} an avatar may have`);
  }
  if (20 + jsonBytes > end) throw damaged('the JSON chunk runs past the end of the file');
  let bin: Uint8Array | null = null;
  // three.js takes the first BIN chunk and skips unknown ones.
  for (let at = 20 + jsonBytes; at + 8 <= end; ) {
    const length = view.getUint32(at, true);
    if (at + 8 + length > end) throw damaged('a chunk runs past the end of the file');
    if (view.getUint32(at + 4, true) === CHUNK_BIN && !bin) bin = new Uint8Array(glb, at + 8, length);
    at += 8 + length;
  }
  return { json: new Uint8Array(glb, 20, jsonBytes), bin };
}

function parseJson(bytes: Uint8Array, damaged: (what: string) => Error, tooLarge: (what: string) => Error): Gltf {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw damaged('its JSON does not parse');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw damaged('its JSON is not an object');
  for (const [key, words, limit] of COUNTED) {
    const items = (raw as Record<string, unknown>)[key];
    if (Array.isArray(items) && items.length > limit) throw tooLarge(`it has ${items.length.toLocaleString('en')} ${words}; an avatar may have up to ${limit.toLocaleString('en')}`);
  }
  const parsed = GltfSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
    throw damaged(`${path}: ${issue.message}`);
  }
  return parsed.data;
}

function decodeDataUri(uri: string): Uint8Array | null {
  const comma = uri.indexOf(',');
  if (comma < 0 || !uri.slice(0, comma).endsWith(';base64')) return null;
  try {
    return Uint8Array.from(atob(uri.slice(comma + 1)), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function externalFile(fileName: string, uri: string): Error {
  return invalidAvatar(fileName, `it refers to another file (${uri.slice(0, 80)}); export it as one .glb (or a .gltf with embedded data) and load that.`);
}

/** The bytes each buffer really has (the GLB's BIN chunk or a data: URI), each checked against its declared length. */
function bufferBytes(gltf: Gltf, bin: Uint8Array | null, fileName: string, damaged: (what: string) => Error): Uint8Array[] {
  return gltf.buffers.map((buffer, index) => {
    let bytes: Uint8Array | null;
    if (buffer.uri === undefined) {
      if (index !== 0) throw damaged(`buffer ${index} has no data`);
      bytes = bin ?? new Uint8Array(0);
    } else if (buffer.uri.startsWith('data:')) {
      bytes = decodeDataUri(buffer.uri);
      if (!bytes) throw damaged(`buffer ${index} has no base64 data`);
    } else {
      throw externalFile(fileName, buffer.uri);
    }
    if (buffer.byteLength > bytes.length) throw damaged(`buffer ${index} declares ${buffer.byteLength} bytes but the file holds ${bytes.length}`);
    return bytes.subarray(0, buffer.byteLength);
  });
}

/** The encoded bytes of image `index`; null when it has none to load. */
function imageBytes(gltf: Gltf, buffers: Uint8Array[], index: number, fileName: string, damaged: (what: string) => Error): Uint8Array | null {
  const image = gltf.images[index]!;
  if (image.bufferView !== undefined) {
    const view = gltf.bufferViews[image.bufferView];
    if (!view) throw damaged(`image ${index} uses buffer view ${image.bufferView}, which does not exist`);
    return buffers[view.buffer]!.subarray(view.byteOffset, view.byteOffset + view.byteLength);
  }
  if (image.uri === undefined) return null;
  if (!image.uri.startsWith('data:')) throw externalFile(fileName, image.uri);
  const bytes = decodeDataUri(image.uri);
  if (!bytes) throw damaged(`image ${index} has no base64 data`);
  return bytes;
}

function checkMeshes(gltf: Gltf, damaged: (what: string) => Error, tooLarge: (what: string) => Error): { vertices: number; morphTargetVertices: number } {
  const accessor = (index: number, what: string): { count: number } => {
    const found = gltf.accessors[index];
    if (!found) throw damaged(`${what} uses accessor ${index}, which does not exist`);
    return found;
  };
  const positions = new Set<number>();
  let primitives = 0;
  let morphTargetVertices = 0;
  gltf.meshes.forEach((mesh, meshIndex) => {
    const meshName = mesh.name ? `mesh "${mesh.name.slice(0, 60)}"` : `mesh ${meshIndex}`;
    primitives += mesh.primitives.length;
    for (const primitive of mesh.primitives) {
      for (const index of Object.values(primitive.attributes)) accessor(index, meshName);
      if (primitive.indices !== undefined) accessor(primitive.indices, meshName);
      for (const target of primitive.targets ?? []) for (const index of Object.values(target)) accessor(index, meshName);
      const position = primitive.attributes.POSITION;
      const vertexCount = position === undefined ? 0 : accessor(position, meshName).count;
      if (position !== undefined) positions.add(position);
      const targets = primitive.targets?.length ?? 0;
      if (targets > AVATAR_LIMITS.morphTargetsPerPrimitive) {
        throw tooLarge(`${meshName} has ${targets} blend shapes (morph targets) on one part; up to ${AVATAR_LIMITS.morphTargetsPerPrimitive} can be shown`);
      }
      morphTargetVertices += targets * vertexCount;
    }
  });
  if (primitives > AVATAR_LIMITS.primitives) {
    throw tooLarge(`it has ${primitives.toLocaleString('en')} mesh parts (primitives); an avatar may have up to ${AVATAR_LIMITS.primitives.toLocaleString('en')}`);
  }
  let vertices = 0;
  for (const position of positions) vertices += gltf.accessors[position]!.count;
  if (vertices > AVATAR_LIMITS.vertices) {
    throw tooLarge(`it has ${vertices.toLocaleString('en')} vertices; an avatar may have up to ${AVATAR_LIMITS.vertices.toLocaleString('en')}`);
  }
  if (morphTargetVertices > AVATAR_LIMITS.morphTargetVertices) {
    throw tooLarge(
      `its blend shapes (morph targets) move ${morphTargetVertices.toLocaleString('en')} vertices in all (targets × vertices); an avatar may have up to ${AVATAR_LIMITS.morphTargetVertices.toLocaleString('en')}`,
    );
  }
  return { vertices, morphTargetVertices };
}

/** Every node has at most one parent and no node is its own ancestor (glTF requires a forest). */
function checkSceneTree(gltf: Gltf, damaged: (what: string) => Error): void {
  const parent = new Int32Array(gltf.nodes.length).fill(-1);
  gltf.nodes.forEach((node, index) => {
    for (const child of node.children ?? []) {
      if (child >= gltf.nodes.length) throw damaged(`node ${index} has a child ${child} that does not exist`);
      if (parent[child] !== -1 || child === index) throw damaged(`node ${child} has more than one parent`);
      parent[child] = index;
    }
  });
  // 0: not seen, 1: on the path being followed, 2: known to reach a root.
  const state = new Uint8Array(gltf.nodes.length);
  for (let start = 0; start < gltf.nodes.length; start++) {
    const path: number[] = [];
    let node = start;
    while (node !== -1 && state[node] === 0) {
      state[node] = 1;
      path.push(node);
      node = parent[node]!;
    }
    if (node !== -1 && state[node] === 1) throw damaged(`node ${node} is its own ancestor`);
    for (const visited of path) state[visited] = 2;
  }
}

/** Nodes in each node's subtree, itself included (the tree is checked first). */
function subtreeSizes(gltf: Gltf): Uint32Array {
  const sizes = new Uint32Array(gltf.nodes.length).fill(1);
  const hasParent = new Uint8Array(gltf.nodes.length);
  for (const node of gltf.nodes) for (const child of node.children ?? []) hasParent[child] = 1;
  const order: number[] = [];
  for (let index = 0; index < gltf.nodes.length; index++) if (!hasParent[index]) order.push(index);
  for (let at = 0; at < order.length; at++) order.push(...(gltf.nodes[order[at]!]!.children ?? []));
  for (let at = order.length - 1; at >= 0; at--) {
    for (const child of gltf.nodes[order[at]!]!.children ?? []) sizes[order[at]!]! += sizes[child]!;
  }
  return sizes;
}

/** VRM expressions and spring bones: three-vrm evaluates them every frame. */
function checkVrm(gltf: Gltf, tooLarge: (what: string) => Error): void {
  const extensions = gltf.extensions;
  if (!extensions) return;
  const length = (items: readonly unknown[] | null | undefined): number => items?.length ?? 0;
  let expressions = 0;
  let binds = 0;
  let joints = 0;
  let collisionChecks = 0;

  const vrm1 = extensions.VRMC_vrm?.expressions;
  for (const expression of [...Object.values(vrm1?.preset ?? {}), ...Object.values(vrm1?.custom ?? {})]) {
    expressions += 1;
    binds += length(expression.morphTargetBinds) + length(expression.materialColorBinds) + length(expression.textureTransformBinds);
  }
  const springBone = extensions.VRMC_springBone;
  for (const spring of springBone?.springs ?? []) {
    const colliders = (spring.colliderGroups ?? []).reduce((sum, group) => sum + length(springBone?.colliderGroups?.[group]?.colliders), 0);
    joints += length(spring.joints);
    collisionChecks += length(spring.joints) * colliders;
  }

  const vrm0 = extensions.VRM;
  for (const group of vrm0?.blendShapeMaster?.blendShapeGroups ?? []) {
    expressions += 1;
    binds += length(group.binds) + length(group.materialValues);
  }
  const secondary = vrm0?.secondaryAnimation;
  if (secondary?.boneGroups?.length) {
    // VRM 0.x names the root bones of each spring; every node below them is a joint.
    const sizes = subtreeSizes(gltf);
    for (const boneGroup of secondary.boneGroups) {
      const groupJoints = (boneGroup.bones ?? []).reduce((sum, bone) => sum + (sizes[bone] ?? 0), 0);
      const colliders = (boneGroup.colliderGroups ?? []).reduce((sum, group) => sum + length(secondary.colliderGroups?.[group]?.colliders), 0);
      joints += groupJoints;
      collisionChecks += groupJoints * colliders;
    }
  }

  const limits: [number, number, string][] = [
    [expressions, AVATAR_LIMITS.vrmExpressions, 'VRM expressions'],
    [binds, AVATAR_LIMITS.vrmExpressionBinds, 'VRM expression binds'],
    [joints, AVATAR_LIMITS.vrmSpringJoints, 'VRM spring bone joints'],
    [collisionChecks, AVATAR_LIMITS.vrmSpringCollisionChecks, 'VRM spring bone collision checks per frame'],
  ];
  for (const [count, limit, words] of limits) {
    if (count > limit) throw tooLarge(`it has ${count.toLocaleString('en')} ${words}; an avatar may have up to ${limit.toLocaleString('en')}`);
  }
}
