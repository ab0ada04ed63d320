import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AVATAR_LIMITS } from '../../app/renderer/avatar/avatar-limits';
import { avatarStore } from '../../app/renderer/avatar/avatar-store';
import { checkGlbBudget } from '../../app/renderer/avatar/gltf-budget';
import { readImageSize } from '../../app/renderer/avatar/image-size';
import { loadAvatar } from '../../app/renderer/avatar/load-avatar';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { type AvatarFixtureKind, ensureAvatarFixtures } from '../../scripts/fixtures/avatar-fixture';

/**
 * Avatar files are bounded by what they unpack to: hand-made hostile GLBs (tiny files that declare
 * gigabytes) are refused in words before three.js allocates anything, and the sample avatars pass.
 */

/** A GLB from a glTF JSON object and an optional BIN chunk. */
function glbOf(json: object, bin?: Uint8Array): ArrayBuffer {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const jsonLength = Math.ceil(text.byteLength / 4) * 4;
  const binLength = bin ? Math.ceil(bin.byteLength / 4) * 4 : 0;
  const bytes = new Uint8Array(20 + jsonLength + (bin ? 8 + binLength : 0));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x46546c67, true);
  view.setUint32(4, 2, true);
  view.setUint32(8, bytes.byteLength, true);
  view.setUint32(12, jsonLength, true);
  view.setUint32(16, 0x4e4f534a, true);
  bytes.fill(0x20, 20, 20 + jsonLength);
  bytes.set(text, 20);
  if (bin) {
    view.setUint32(20 + jsonLength, binLength, true);
    view.setUint32(24 + jsonLength, 0x004e4942, true);
    bytes.set(bin, 28 + jsonLength);
  }
  return bytes.buffer;
}

/** One node with one mesh whose primitive uses `attributes` (accessor indices) and `targets`. */
function meshGltf(accessors: object[], primitive: object = { attributes: { POSITION: 0 } }, extra: object = {}): object {
  return { asset: { version: '2.0' }, scene: 0, scenes: [{ nodes: [0] }], nodes: [{ mesh: 0 }], meshes: [{ primitives: [primitive] }], accessors, ...extra };
}

/** A PNG's signature and IHDR chunk: all a header-reader sees of a `widthPx`×`heightPx` image. */
function pngHeader(widthPx: number, heightPx: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, widthPx);
  view.setUint32(20, heightPx);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

/** A GLB whose images are the given encoded bytes, one buffer view each. */
function glbWithImages(images: Uint8Array[]): ArrayBuffer {
  const offsets: number[] = [];
  let total = 0;
  for (const image of images) {
    offsets.push(total);
    total += Math.ceil(image.byteLength / 4) * 4;
  }
  const bin = new Uint8Array(total);
  images.forEach((image, index) => bin.set(image, offsets[index]));
  return glbOf(
    {
      asset: { version: '2.0' },
      buffers: [{ byteLength: total }],
      bufferViews: images.map((image, index) => ({ buffer: 0, byteOffset: offsets[index], byteLength: image.byteLength })),
      images: images.map((_, index) => ({ bufferView: index, mimeType: 'image/png' })),
    },
    bin,
  );
}

function refusal(glb: ArrayBuffer, name = 'hostile.glb'): AppError {
  try {
    checkGlbBudget(glb, name);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('the file was not refused');
}

async function loadRefusal(bytes: ArrayBuffer, name: string): Promise<AppError> {
  const error = await loadAvatar(bytes, name).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function bytesOf(path: string): ArrayBuffer {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

let samples: Record<AvatarFixtureKind, string>;

beforeAll(async () => {
  samples = await ensureAvatarFixtures();
});

describe('avatar budget: what a file unpacks to', () => {
  it('refuses a 244-byte GLB whose data-less accessor would unpack to 1.1 GB, before three.js allocates it', async () => {
    const mesh = { name: 'Face', primitives: [{ attributes: { POSITION: 0 } }] };
    const glb = glbOf(meshGltf([{ componentType: 5126, count: 100_000_000, type: 'VEC3' }], undefined, { meshes: [mesh] }));
    expect(glb.byteLength).toBe(244);
    const error = await loadRefusal(glb, 'tiny.glb');
    expect(error.code).toBe(ErrorCode.ModelTooLarge);
    expect(error.recoverable).toBe(true);
    expect(error.message).toBe(
      '"tiny.glb" is too heavy to use as an avatar: accessor 0 declares 100,000,000 VEC3 values, 1.1 GB once unpacked; an avatar may use up to 500 MB. Use a lighter avatar (fewer vertices or blend shapes, smaller textures).',
    );
  });

  it('counts sparse accessors at their full size, and refuses a .gltf that declares too much the same way', async () => {
    const sparse = glbOf(
      meshGltf([
        {
          componentType: 5126,
          count: 50_000_000,
          type: 'VEC3',
          sparse: { count: 1, indices: { bufferView: 0, componentType: 5125 }, values: { bufferView: 1 } },
        },
      ], undefined, {
        buffers: [{ byteLength: 16 }],
        bufferViews: [
          { buffer: 0, byteLength: 4 },
          { buffer: 0, byteOffset: 4, byteLength: 12 },
        ],
      }),
      new Uint8Array(16),
    );
    expect(refusal(sparse).message).toContain('accessor 0 declares 50,000,000 VEC3 values');
    const gltf = new TextEncoder().encode(JSON.stringify(meshGltf([{ componentType: 5126, count: 100_000_000, type: 'VEC3' }])));
    expect((await loadRefusal(gltf.buffer as ArrayBuffer, 'tiny.gltf')).code).toBe(ErrorCode.ModelTooLarge);
  });

  it('adds accessors together against the decoded budget', () => {
    // 6 × 100 MB: each fits, all together do not.
    const accessors = Array.from({ length: 6 }, () => ({ componentType: 5126, count: (100 * 1024 * 1024) / 4, type: 'SCALAR' }));
    const error = refusal(glbOf(meshGltf(accessors)));
    expect(error.code).toBe(ErrorCode.ModelTooLarge);
    expect(error.message).toContain('accessor 5 declares 26,214,400 SCALAR values (100 MB), which brings the file to 600 MB once unpacked; an avatar may use up to 500 MB');
  });

  it('reads image sizes from PNG headers inside the file and refuses huge textures', async () => {
    const huge = refusal(glbWithImages([pngHeader(60_000, 60_000)]), 'poster.glb');
    expect(huge.code).toBe(ErrorCode.ModelTooLarge);
    expect(huge.message).toContain('image 0 is 60000×60000 pixels; textures may be up to 8192×8192');
    // Each within the side limit (256 MB decoded), three of them over the budget.
    const many = refusal(glbWithImages([pngHeader(8192, 8192), pngHeader(8192, 8192), pngHeader(8192, 8192)]));
    expect(many.message).toContain('image 1 is 8192×8192 pixels (256 MB), which brings the file to 512 MB once unpacked');
    expect(checkGlbBudget(glbWithImages([pngHeader(2048, 2048)]), 'ok.glb').decodedBytes).toBe(2048 * 2048 * 4);
    const unknown = refusal(glbWithImages([new TextEncoder().encode('GIF89a not really')]));
    expect(unknown.code).toBe(ErrorCode.ModelInvalid);
    expect(unknown.message).toContain('image 0 is not a PNG, JPEG, WebP or KTX2 image');
    // Through the loader too, before any image is decoded.
    expect((await loadRefusal(glbWithImages([pngHeader(60_000, 60_000)]), 'poster.glb')).code).toBe(ErrorCode.ModelTooLarge);
  });

  it('refuses too many blend shapes: per part, and targets × vertices in all', () => {
    const position = { componentType: 5126, count: 100, type: 'VEC3' };
    const perPart = refusal(glbOf(meshGltf([position], { attributes: { POSITION: 0 }, targets: Array.from({ length: 300 }, () => ({ POSITION: 0 })) })));
    expect(perPart.message).toContain('mesh 0 has 300 blend shapes (morph targets) on one part; up to 256 can be shown');
    // 60 targets on 200 k vertices: 12 M target vertices, while the arrays alone (146 MB) fit the budget.
    const vertices = { componentType: 5126, count: 200_000, type: 'VEC3' };
    const accessors = [vertices, ...Array.from({ length: 60 }, () => vertices)];
    const targets = Array.from({ length: 60 }, (_, index) => ({ POSITION: index + 1 }));
    const total = refusal(glbOf(meshGltf(accessors, { attributes: { POSITION: 0 }, targets })));
    expect(total.code).toBe(ErrorCode.ModelTooLarge);
    expect(total.message).toContain('move 12,000,000 vertices in all (targets × vertices); an avatar may have up to 10,000,000');
  });

  it('refuses too many vertices and too many scene objects', () => {
    const vertices = refusal(glbOf(meshGltf([{ componentType: 5126, count: 2_500_000, type: 'VEC3' }])));
    expect(vertices.message).toContain('it has 2,500,000 vertices; an avatar may have up to 2,000,000');
    const nodes = refusal(glbOf({ asset: { version: '2.0' }, nodes: Array.from({ length: AVATAR_LIMITS.nodes + 1 }, () => ({})) }));
    expect(nodes.message).toContain('it has 20,001 nodes (scene objects); an avatar may have up to 20,000');
    const materials = refusal(glbOf({ asset: { version: '2.0' }, materials: Array.from({ length: 1001 }, () => ({})) }));
    expect(materials.message).toContain('1,001 materials');
  });

  it('refuses ranges that do not fit their buffer view, buffer or the bytes in the file', () => {
    const buffers = [{ byteLength: 12 }];
    const damaged = (json: object, bin = new Uint8Array(12)): string => {
      const error = refusal(glbOf(json, bin));
      expect(error.code).toBe(ErrorCode.ModelInvalid);
      return error.message;
    };
    const accessor = { bufferView: 0, componentType: 5126, count: 2, type: 'VEC3' };
    expect(damaged(meshGltf([accessor], undefined, { buffers, bufferViews: [{ buffer: 0, byteLength: 12 }] }))).toContain(
      'the glTF data is damaged (accessor 0 needs 24 bytes of buffer view 0, which has 12)',
    );
    expect(damaged(meshGltf([], { attributes: {} }, { buffers, bufferViews: [{ buffer: 0, byteOffset: 8, byteLength: 8 }] }))).toContain(
      'buffer view 0 ends at byte 16 of buffer 0, which has 12',
    );
    expect(damaged(meshGltf([], { attributes: {} }, { buffers: [{ byteLength: 1_000_000 }] }))).toContain('buffer 0 declares 1000000 bytes but the file holds 12');
    const sparse = { ...accessor, count: 1, sparse: { count: 2, indices: { bufferView: 0, componentType: 5123 }, values: { bufferView: 0 } } };
    expect(damaged(meshGltf([sparse], undefined, { buffers, bufferViews: [{ buffer: 0, byteLength: 12 }] }))).toContain('accessor 0 replaces 2 of its 1 values');
    expect(damaged(meshGltf([{ componentType: 5126, count: 1, type: 'VEC3' }], { attributes: { POSITION: 7 } }))).toContain('mesh 0 uses accessor 7, which does not exist');
    expect(damaged(meshGltf([{ componentType: 5126, count: -3, type: 'VEC3' }]))).toContain('accessors[0].count: must be a whole number');
  });

  it('refuses a scene graph with a loop (three.js would wait for it forever)', async () => {
    const loop = glbOf({ asset: { version: '2.0' }, scene: 0, scenes: [{ nodes: [0] }], nodes: [{ children: [1] }, { children: [2] }, { children: [1] }] });
    const error = await loadRefusal(loop, 'loop.glb');
    expect(error.code).toBe(ErrorCode.ModelInvalid);
    expect(error.message).toContain('node 1 has more than one parent');
    const ring = glbOf({ asset: { version: '2.0' }, nodes: [{ children: [1] }, { children: [0] }] });
    expect(refusal(ring).message).toContain('is its own ancestor');
  });

  it('bounds the JSON chunk by its declared length, before decoding it', () => {
    const header = new Uint8Array(28);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x46546c67, true);
    view.setUint32(4, 2, true);
    view.setUint32(8, header.byteLength, true);
    view.setUint32(12, 40 * 1024 * 1024, true);
    view.setUint32(16, 0x4e4f534a, true);
    const error = refusal(header.buffer);
    expect(error.code).toBe(ErrorCode.ModelTooLarge);
    expect(error.message).toContain('its glTF JSON is 40 MB, more than the 32 MB an avatar may have');
  });

  it('bounds VRM spring bones and expressions (three-vrm evaluates them every frame)', () => {
    const joints = Array.from({ length: 5000 }, () => ({ node: 0 }));
    const springs = refusal(glbOf({ asset: { version: '2.0' }, nodes: [{}], extensions: { VRMC_springBone: { springs: [{ joints }] } } }));
    expect(springs.message).toContain('5,000 VRM spring bone joints');
    // VRM 0.x names root bones; a 3000-node chain under one root is 3000 joints, tested against 100 colliders each.
    const chain = Array.from({ length: 3000 }, (_, index) => (index < 2999 ? { children: [index + 1] } : {}));
    const colliders = Array.from({ length: 100 }, () => ({ offset: { x: 0, y: 0, z: 0 }, radius: 0.1 }));
    const vrm0 = {
      asset: { version: '2.0' },
      nodes: chain,
      extensions: { VRM: { secondaryAnimation: { boneGroups: [{ bones: [0], colliderGroups: [0] }], colliderGroups: [{ node: 0, colliders }] } } },
    };
    expect(refusal(glbOf(vrm0)).message).toContain('300,000 VRM spring bone collision checks per frame');
    const custom = Object.fromEntries(Array.from({ length: 1001 }, (_, index) => [`face${index}`, {}]));
    expect(refusal(glbOf({ asset: { version: '2.0' }, extensions: { VRMC_vrm: { expressions: { custom } } } })).message).toContain('1,001 VRM expressions');
  });

  it('refuses a file larger than the limit by File.size, without reading it', async () => {
    const arrayBuffer = vi.fn(() => Promise.resolve(new ArrayBuffer(0)));
    const file = { name: 'huge.vrm', size: 300 * 1024 * 1024, type: '', arrayBuffer } as unknown as File;
    const error = await avatarStore.loadFile(file).then(
      () => null,
      (thrown: unknown) => thrown as AppError,
    );
    expect(error?.code).toBe(ErrorCode.ModelTooLarge);
    expect(error?.message).toContain('the file is 300 MB, more than the 200 MB an avatar file may be');
    expect(arrayBuffer).not.toHaveBeenCalled();
    expect(avatarStore.getSnapshot().loading).toBeNull();
  });

  it('passes the sample VRM 1.0, VRM 0.x, ARKit and Oculus avatars, which still load', async () => {
    for (const [kind, path] of Object.entries(samples)) {
      const budget = checkGlbBudget(bytesOf(path), `${kind}.vrm`);
      expect(budget.vertices, kind).toBeGreaterThan(100);
      expect(budget.morphTargetVertices, kind).toBeGreaterThan(0);
      expect(budget.decodedBytes, kind).toBeLessThan(AVATAR_LIMITS.decodedBytes);
      const avatar = await loadAvatar(bytesOf(path), `${kind}.vrm`);
      expect(avatar.rig.morphTargetNames.length, kind).toBeGreaterThan(5);
      avatar.dispose();
    }
  });
});

describe('readImageSize', () => {
  it('reads PNG, JPEG, WebP (lossy, lossless, extended) and KTX2 headers', () => {
    expect(readImageSize(pngHeader(640, 480))).toEqual({ format: 'png', widthPx: 640, heightPx: 480, slices: 1 });
    // SOI, an APP0 segment of 16 bytes, then a baseline frame header: height 300, width 400.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...new Array(14).fill(0), 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x01, 0x90, 0x03]);
    expect(readImageSize(jpeg)).toEqual({ format: 'jpeg', widthPx: 400, heightPx: 300, slices: 1 });
    const riff = (chunk: string, body: number[]): Uint8Array =>
      new Uint8Array([...new TextEncoder().encode('RIFF'), 0, 0, 0, 0, ...new TextEncoder().encode(`WEBP${chunk}`), 0, 0, 0, 0, ...body, ...new Array(16).fill(0)]);
    // VP8X: flags and reserved (4 bytes), then width-1 and height-1 in 24 bits: 1000 × 2000.
    expect(readImageSize(riff('VP8X', [0, 0, 0, 0, 0xe7, 0x03, 0x00, 0xcf, 0x07, 0x00]))).toMatchObject({ widthPx: 1000, heightPx: 2000 });
    // VP8L: signature, then 14-bit width-1 and height-1: 16 × 8.
    const bits = 15 | (7 << 14);
    expect(readImageSize(riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, 0]))).toMatchObject({ widthPx: 16, heightPx: 8 });
    // VP8: frame tag, start code, 14-bit width and height: 320 × 240.
    expect(readImageSize(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]))).toMatchObject({ widthPx: 320, heightPx: 240 });
    const ktx2 = new Uint8Array(80);
    ktx2.set([0xab, 0x4b, 0x54, 0x58, 0x20, 0x32, 0x30, 0xbb, 0x0d, 0x0a, 0x1a, 0x0a]);
    const ktxView = new DataView(ktx2.buffer);
    ktxView.setUint32(20, 4096, true);
    ktxView.setUint32(24, 4096, true);
    ktxView.setUint32(36, 6, true);
    expect(readImageSize(ktx2)).toEqual({ format: 'ktx2', widthPx: 4096, heightPx: 4096, slices: 6 });
    expect(readImageSize(new Uint8Array([0x89, 0x50]))).toBeNull();
    expect(readImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0]))).toBeNull();
  });
});
