const MB = 1024 * 1024;

/**
 * What an avatar file may cost the page, checked before three.js sees the file (gltf-budget.ts).
 * A glTF file can declare far more than its bytes hold (an accessor without data is a zero-filled
 * array of any `count`; a 100-byte PNG header can claim 60000×60000 pixels), so files are bounded by
 * what they decode to. The limits are generous for real VRM avatars (a VRoid Studio avatar: about
 * 60 k vertices, 60 face morphs, ten 2048² textures, 15–40 MB) and stop a tab from running out of
 * memory or stalling every frame.
 */
export const AVATAR_LIMITS = {
  /** The file itself: read whole into memory (and three.js copies its buffer views again). */
  fileBytes: 200 * MB,
  /** The glTF JSON (GLB JSON chunk): real avatars have 0.1–5 MB; JSON.parse needs several times its size. */
  jsonBytes: 32 * MB,
  /**
   * Vertex/index/animation arrays (accessor count × components × component size, sparse and
   * data-less accessors included) plus every texture at 4 bytes per pixel: about 4× a heavy avatar.
   */
  decodedBytes: 500 * MB,
  /** The sum of all buffer views: three.js copies each one it reads, and views may overlap. */
  bufferViewBytes: 400 * MB,
  /** Vertices over all meshes (distinct POSITION arrays): 30× a VRoid avatar, still drawn at interactive rates in software WebGL's light mode. */
  vertices: 2_000_000,
  /** Morph targets of one primitive: WebGL 2 guarantees only 256 layers in the texture three.js keeps them in. */
  morphTargetsPerPrimitive: 256,
  /** Morph targets × vertices over all primitives: three.js keeps up to 48 bytes per vertex per target in a float texture. */
  morphTargetVertices: 10_000_000,
  /** Texture width or height: many GPUs (and SwiftShader) stop at 8192. */
  imageSidePixels: 8192,
  /** Scene graph objects (each a three.js Object3D updated every frame). */
  nodes: 20_000,
  /** Meshes and their primitives (each primitive is one geometry and one draw call). */
  meshes: 2_000,
  primitives: 10_000,
  /** Materials (each may compile its own shader program) and textures/images. */
  materials: 1_000,
  textures: 1_000,
  images: 1_000,
  /** Accessors and buffer views (each is an object and a typed array in the loader). */
  accessors: 200_000,
  bufferViews: 200_000,
  /** VRM expressions (presets are 18; custom ones rarely pass 100) and the morph/material binds they drive every frame. */
  vrmExpressions: 1_000,
  vrmExpressionBinds: 20_000,
  /** VRM spring bone joints (hair, clothes; VRoid: 200–500), simulated every frame. */
  vrmSpringJoints: 4_096,
  /** Spring joint × collider tests every frame (VRoid: a few thousand). */
  vrmSpringCollisionChecks: 250_000,
} as const;

/** Bytes in words: "1.2 GB", "500 MB", "12 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  if (bytes >= MB) return `${Math.round(bytes / MB)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}
