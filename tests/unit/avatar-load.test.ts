import { readFileSync } from 'node:fs';
import { Box3, type Mesh, Vector3 } from 'three';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import type { AvatarPose } from '../../app/renderer/avatar/avatar-rig';
import { emotionFromText } from '../../app/renderer/avatar/emotion';
import { FaceMixer, type FaceLayers } from '../../app/renderer/avatar/face-mix';
import { loadAvatar, type LoadedAvatar } from '../../app/renderer/avatar/load-avatar';
import { type AvatarFixtureKind, ensureAvatarFixtures } from '../../scripts/fixtures/avatar-fixture';

/** Avatar files → rigs in Node (three's GLTFLoader + three-vrm need no DOM for untextured files). */

const POSE: AvatarPose = { headYaw: 0, headPitch: 0, headRoll: 0, breath: 0, gazeYaw: 0, gazePitch: 0 };
let paths: Record<AvatarFixtureKind, string>;

function bytesOf(path: string): ArrayBuffer {
  const buffer = readFileSync(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

/** The influence of morph target `name` on the first mesh that has it. */
function influence(avatar: LoadedAvatar, name: string): number | undefined {
  let value: number | undefined;
  avatar.root.traverse((object) => {
    const mesh = object as Mesh;
    const index = mesh.morphTargetDictionary?.[name];
    if (value === undefined && index !== undefined) value = mesh.morphTargetInfluences![index];
  });
  return value;
}

async function refusal(bytes: ArrayBuffer, name: string): Promise<AppError> {
  const error = await loadAvatar(bytes, name).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function layers(patch: Partial<FaceLayers>): FaceLayers {
  return { visemes: { sil: 1 }, blinkLeft: 0, blinkRight: 0, browInnerUp: 0, smile: 0, emotion: 'neutral', emotionWeight: 0, ...patch };
}

beforeAll(async () => {
  paths = await ensureAvatarFixtures();
});

describe('loadAvatar', () => {
  it('recognises VRM 1.0 and drives its expressions through the morph targets they bind', async () => {
    const avatar = await loadAvatar(bytesOf(paths.vrm1), 'sample-vrm1.vrm');
    expect(avatar.rig.info).toEqual({ kind: 'vrm1', name: 'Sample VRM 1.0', format: 'vrm1' });
    expect(avatar.rig.morphTargetNames).toEqual(expect.arrayContaining(['aa', 'ih', 'ou', 'ee', 'oh', 'blinkLeft', 'blinkRight', 'happy']));
    avatar.rig.apply({ aa: 0.8, blinkLeft: 1 }, POSE, 1 / 60);
    expect(influence(avatar, 'Fcl_MTH_A')).toBeCloseTo(0.8);
    expect(influence(avatar, 'Fcl_EYE_Close_L')).toBeCloseTo(1);
    expect(influence(avatar, 'Fcl_MTH_O')).toBe(0);
    // The sample's emotions are authored to block mouth and blink; speech and blinks still show.
    avatar.rig.apply({ aa: 1, blinkLeft: 1, happy: 1 }, POSE, 1 / 60);
    expect(influence(avatar, 'Fcl_MTH_A')).toBeCloseTo(1);
    expect(influence(avatar, 'Fcl_EYE_Close_L')).toBeCloseTo(1);
    expect(influence(avatar, 'Fcl_ALL_Joy')).toBeCloseTo(1);
    // Framed like the default head: about 2 units tall around the origin.
    avatar.root.updateMatrixWorld(true);
    expect(avatar.root.scale.x).toBeGreaterThan(5);
  });

  it('recognises VRM 0.x and maps its A/I/U/E/O and Blink_L/R names', async () => {
    const avatar = await loadAvatar(bytesOf(paths.vrm0), 'sample-vrm0.vrm');
    expect(avatar.rig.info).toEqual({ kind: 'vrm0', name: 'Sample VRM 0.x', format: 'vrm0' });
    expect(avatar.rig.morphTargetNames).toEqual(expect.arrayContaining(['A', 'I', 'U', 'E', 'O', 'Blink_L', 'Blink_R', 'Joy']));
    avatar.rig.apply({ O: 1, Blink_R: 0.5 }, POSE, 1 / 60);
    expect(influence(avatar, 'Fcl_MTH_O')).toBeCloseTo(1);
    expect(influence(avatar, 'Fcl_EYE_Close_R')).toBeCloseTo(0.5);
  });

  it('tells ARKit from Oculus blend shapes in plain GLB files', async () => {
    const arkit = await loadAvatar(bytesOf(paths.arkit), 'sample-arkit.glb');
    expect(arkit.rig.info).toEqual({ kind: 'gltf', name: 'sample-arkit', format: 'arkit' });
    arkit.rig.apply({ jawOpen: 0.6 }, POSE, 1 / 60);
    expect(influence(arkit, 'jawOpen')).toBeCloseTo(0.6);
    const oculus = await loadAvatar(bytesOf(paths.oculus), 'sample-oculus.glb');
    expect(oculus.rig.info.format).toBe('oculus');
    expect(oculus.rig.morphTargetNames).toContain('viseme_PP');
  });

  it('turns every avatar to face the camera (+z), VRM 0.x included', async () => {
    for (const [kind, path] of Object.entries(paths)) {
      const avatar = await loadAvatar(bytesOf(path), `${kind}.glb`);
      avatar.root.updateMatrixWorld(true);
      let mouthZ = Number.NaN;
      avatar.root.traverse((object) => {
        const mesh = object as Mesh;
        if (mesh.isMesh && (mesh.material as { name?: string }).name === 'mouth') mouthZ = new Box3().setFromObject(mesh).getCenter(new Vector3()).z;
      });
      expect(mouthZ, kind).toBeGreaterThan(0.5);
    }
  });

  it('reads a .gltf whose buffers are embedded as data: URIs', async () => {
    const glb = Buffer.from(bytesOf(paths.oculus));
    const jsonLength = glb.readUInt32LE(12);
    const json = JSON.parse(glb.subarray(20, 20 + jsonLength).toString());
    const bin = glb.subarray(20 + jsonLength + 8);
    json.buffers = [{ byteLength: bin.byteLength, uri: `data:application/octet-stream;base64,${bin.toString('base64')}` }];
    const text = new TextEncoder().encode(JSON.stringify(json));
    const avatar = await loadAvatar(text.buffer as ArrayBuffer, 'embedded.gltf');
    expect(avatar.rig.info.format).toBe('oculus');
  });

  it('refuses unusable files in words', async () => {
    expect((await refusal(new ArrayBuffer(0), 'empty.vrm')).message).toContain('empty');
    const garbage = await refusal(new TextEncoder().encode('not a model at all').buffer as ArrayBuffer, 'notes.glb');
    expect(garbage.code).toBe(ErrorCode.ModelInvalid);
    expect(garbage.message).toContain('"notes.glb" cannot be used as an avatar');
    expect((await refusal(bytesOf(paths.vrm1).slice(0, 5000), 'cut.vrm')).message).toContain('truncated');
    const external = new TextEncoder().encode(JSON.stringify({ asset: { version: '2.0' }, buffers: [{ uri: 'mesh.bin', byteLength: 4 }] }));
    expect((await refusal(external.buffer as ArrayBuffer, 'split.gltf')).message).toContain('mesh.bin');
    const mouthless = new TextEncoder().encode(JSON.stringify({ asset: { version: '2.0' }, scenes: [{ nodes: [0] }], scene: 0, nodes: [{ name: 'empty' }] }));
    expect((await refusal(mouthless.buffer as ArrayBuffer, 'statue.gltf')).message).toContain('no mouth blend shapes');
  });
});

describe('FaceMixer', () => {
  it('closes the lips on PP with the table and leaves the mouth alone when blinking', () => {
    const mixer = new FaceMixer('default-avatar');
    const closed = { ...mixer.mix(layers({ visemes: { PP: 1 } })) };
    expect(closed.viseme_PP).toBe(1);
    const blinking = { ...mixer.mix(layers({ visemes: { PP: 1 }, blinkLeft: 1, blinkRight: 1 })) };
    expect(blinking.eyeBlinkLeft).toBe(1);
    for (const name of Object.keys(closed)) if (name.startsWith('viseme_')) expect(blinking[name]).toBe(closed[name]);
  });

  it('lets the smile yield to speech and damps VRM emotions while the mouth speaks', () => {
    const mixer = new FaceMixer('default-avatar');
    const resting = mixer.mix(layers({ emotion: 'happy', emotionWeight: 1 })).mouthSmile!;
    const speaking = mixer.mix(layers({ visemes: { aa: 1 }, emotion: 'happy', emotionWeight: 1 })).mouthSmile!;
    expect(speaking).toBeLessThan(resting);
    const vrm = new FaceMixer('vrm1');
    expect(vrm.mix(layers({ emotion: 'happy', emotionWeight: 1 })).happy).toBe(1);
    const talking = { ...vrm.mix(layers({ visemes: { aa: 1 }, emotion: 'happy', emotionWeight: 1 })) };
    expect(talking.happy).toBe(0.5);
    expect(talking.aa).toBe(1);
  });
});

describe('emotionFromText', () => {
  it('follows the last cue in the reply', () => {
    expect(emotionFromText('The train leaves at nine.')).toBe('neutral');
    expect(emotionFromText('I am so happy to see you!')).toBe('happy');
    expect(emotionFromText('Great news. Unfortunately it rained.')).toBe('sad');
    expect(emotionFromText('Wow, really?')).toBe('surprised');
  });
});
