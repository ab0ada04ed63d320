import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { decode, encode } from 'node-osc';
import { afterEach, describe, expect, it } from 'vitest';
import { vmcBundle } from '../../app/engine/vmc/vmc-bundle';
import { createVmcService } from '../../app/engine/vmc/vmc-service';
import { AppError } from '../../app/shared/errors.contract';
import type { ServerMessage } from '../../app/shared/messages.contract';
import { parseClientMessage } from '../../app/shared/validate';
import { defaultVmcSettings, parseVmcTarget, VmcSettingsSchema, type VmcPose } from '../../app/shared/vmc.contract';

/** VMC output: a frame's pose → one OSC bundle, as a receiver decodes it; the service sends only while on. */

interface DecodedMessage {
  address: string;
  args: Array<string | number>;
}

const HALF_SQRT2 = Math.SQRT1_2;

/** A frame mid-"a" with a blink, the head turned 90° about +Y (three.js), the root raised 1 cm. */
const POSE: VmcPose = {
  type: 'vmc.pose',
  audioTimeSec: 12.5,
  blend: { aa: 0.75, blinkLeft: 1, blinkRight: 0.5, happy: 0.25, surprised: 0.5 },
  bones: [
    { name: 'Head', rotation: [0, HALF_SQRT2, 0, HALF_SQRT2] },
    { name: 'Neck', rotation: [0.5, 0.5, 0.5, 0.5] },
  ],
  root: { position: [0.25, 0.01, -0.5], rotation: [0, 0, 0, 1] },
};

/** A received packet as addresses and plain argument values. */
function decodePacket(packet: Buffer): { oscType: string; timetag: number; messages: DecodedMessage[] } {
  const bundle = decode(packet) as { oscType: string; timetag: number; elements: Array<{ address: string; args: Array<{ value: string | number }> }> };
  return { ...bundle, messages: bundle.elements.map(({ address, args }) => ({ address, args: args.map((arg) => arg.value) })) };
}

function decoded(pose: VmcPose, naming: 'vrm0' | 'vrm1'): { timetag: number; messages: DecodedMessage[] } {
  const bundle = decodePacket(encode(vmcBundle(pose, naming)));
  expect(bundle.oscType).toBe('bundle');
  return bundle;
}

function blendValues(messages: DecodedMessage[]): Record<string, number> {
  return Object.fromEntries(messages.filter((m) => m.address === '/VMC/Ext/Blend/Val').map((m) => [m.args[0] as string, m.args[1] as number]));
}

/** The type tags as written on the wire (floats must stay floats even at 0 or 1). */
function typeTags(pose: VmcPose): string[] {
  const bytes = encode(vmcBundle(pose, 'vrm1')).toString('latin1');
  return [...bytes.matchAll(/,([ifs]+)\0/g)].map((match) => match[1]!);
}

describe('VMC bundle of one frame', () => {
  it('sends availability and the audio-clock time first, Apply last, as one immediate bundle', () => {
    const { timetag, messages } = decoded(POSE, 'vrm1');
    expect(timetag).toBe(0);
    expect(messages[0]).toEqual({ address: '/VMC/Ext/OK', args: [1, 3, 0, 1] });
    expect(messages[1]!.address).toBe('/VMC/Ext/T');
    expect(messages[1]!.args[0]).toBeCloseTo(12.5, 5);
    expect(messages.at(-1)).toEqual({ address: '/VMC/Ext/Blend/Apply', args: [] });
  });

  it('names expressions as VRM 1.0 does, every preset each frame (0 where unmoved), as floats', () => {
    const { messages } = decoded(POSE, 'vrm1');
    expect(blendValues(messages)).toEqual({
      aa: 0.75,
      ih: 0,
      ou: 0,
      ee: 0,
      oh: 0,
      blinkLeft: 1,
      blinkRight: 0.5,
      happy: 0.25,
      angry: 0,
      sad: 0,
      relaxed: 0,
      surprised: 0.5,
    });
    // OK is four ints; T, blend values and transforms are floats (0 and 1 included).
    const tags = typeTags(POSE);
    expect(tags[0]).toBe('iiii');
    expect(tags[1]).toBe('f');
    expect(tags.filter((tag) => tag === 'sf')).toHaveLength(12);
  });

  it('names expressions as VRM 0.x blend shape presets, which have no "surprised"', () => {
    const { messages } = decoded(POSE, 'vrm0');
    expect(blendValues(messages)).toEqual({ A: 0.75, I: 0, U: 0, E: 0, O: 0, Blink_L: 1, Blink_R: 0.5, Joy: 0.25, Angry: 0, Sorrow: 0, Fun: 0 });
  });

  it('sends root and bones in Unity space: X mirrored, so yaw and roll change sign and pitch stays', () => {
    const { messages } = decoded(POSE, 'vrm1');
    const root = messages.find((m) => m.address === '/VMC/Ext/Root/Pos')!;
    expect(root.args[0]).toBe('root');
    const rootNumbers = root.args.slice(1) as number[];
    [-0.25, 0.01, -0.5, 0, 0, 0, 1].forEach((value, i) => expect(rootNumbers[i]).toBeCloseTo(value, 6));
    const bones = messages.filter((m) => m.address === '/VMC/Ext/Bone/Pos');
    expect(bones.map((bone) => bone.args[0])).toEqual(['Head', 'Neck']);
    const head = bones[0]!.args.slice(1) as number[];
    [0, 0, 0, 0, -HALF_SQRT2, 0, HALF_SQRT2].forEach((value, i) => expect(head[i]).toBeCloseTo(value, 6));
    const neck = bones[1]!.args.slice(1) as number[];
    [0, 0, 0, 0.5, -0.5, -0.5, 0.5].forEach((value, i) => expect(neck[i]).toBeCloseTo(value, 6));
  });
});

describe('vmc.pose validation', () => {
  const rejects = (value: unknown, reason: RegExp): void => {
    let error: unknown;
    try {
      parseClientMessage(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_message');
    expect((error as AppError).message).toMatch(reason);
  };

  it('accepts a frame and refuses malformed ones with a typed error saying what is wrong', () => {
    expect(parseClientMessage(POSE)).toEqual(POSE);
    rejects({ ...POSE, blend: { ...POSE.blend, A: 0.5 } }, /"vmc.pose".*blend/);
    rejects({ ...POSE, blend: { aa: 1.5 } }, /blend\.aa/);
    rejects({ ...POSE, audioTimeSec: Number.NaN }, /audioTimeSec/);
    rejects({ ...POSE, bones: [{ name: 'Hips', rotation: [0, 0, 0, 1] }] }, /bones\.0\.name/);
    rejects({ ...POSE, bones: [{ name: 'Head', rotation: [0, 0, 0, 2] }] }, /unit quaternion/);
    rejects({ ...POSE, root: { position: [0, 1e6, 0], rotation: [0, 0, 0, 1] } }, /root\.position/);
  });
});

describe('VMC setting and --vmc-out', () => {
  it('validates the host and parses host:port', () => {
    expect(VmcSettingsSchema.safeParse(defaultVmcSettings).success).toBe(true);
    for (const host of ['127.0.0.1', 'localhost', 'vtuber-pc.local', '::1']) expect(VmcSettingsSchema.safeParse({ ...defaultVmcSettings, host }).success, host).toBe(true);
    for (const host of ['', 'http://x', '127.0.0.1:39539', '300.1.1.1', 'a b', '../etc']) expect(VmcSettingsSchema.safeParse({ ...defaultVmcSettings, host }).success, host).toBe(false);
    expect(parseVmcTarget('127.0.0.1:39540')).toEqual({ host: '127.0.0.1', port: 39540 });
    expect(parseVmcTarget('[::1]:39539')).toEqual({ host: '::1', port: 39539 });
    expect(() => parseVmcTarget('127.0.0.1')).toThrow(/host:port/);
    expect(() => parseVmcTarget('127.0.0.1:70000')).toThrow(/host:port/);
  });
});

describe('VMC service', () => {
  let receiver: Socket | undefined;
  afterEach(() => {
    receiver?.close();
    receiver = undefined;
  });

  async function listen(): Promise<{ port: number; packets: Buffer[] }> {
    const packets: Buffer[] = [];
    receiver = createSocket('udp4');
    receiver.on('message', (packet) => packets.push(packet));
    await new Promise<void>((resolve) => receiver!.bind(0, '127.0.0.1', resolve));
    return { port: (receiver.address() as AddressInfo).port, packets };
  }

  it('sends nothing while off, one bundle per pose while on, and tells every page', async () => {
    const { port, packets } = await listen();
    const service = createVmcService({ settings: undefined });
    const heard: ServerMessage[] = [];
    const part = service.connect((message) => heard.push(message));
    expect(heard).toEqual([{ type: 'vmc.status', enabled: false, naming: 'vrm1', target: '127.0.0.1:39539', source: 'settings' }]);
    part.handlers['vmc.pose'](POSE);
    service.settingsChanged({ enabled: true, host: '127.0.0.1', port, naming: 'vrm0' });
    expect(heard.at(-1)).toMatchObject({ type: 'vmc.status', enabled: true, naming: 'vrm0', target: `127.0.0.1:${port}` });
    part.handlers['vmc.pose'](POSE);
    part.handlers['vmc.pose']({ ...POSE, audioTimeSec: 12.6 });
    await expect.poll(() => packets.length).toBe(2);
    expect(blendValues(decodePacket(packets[0]!).messages).A).toBe(0.75);
    service.settingsChanged(undefined);
    part.handlers['vmc.pose'](POSE);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(packets).toHaveLength(2);
    expect(service.bundlesSent).toBe(2);
    service.close();
  });

  it('--vmc-out turns it on for the run until the VMC setting is changed', () => {
    const service = createVmcService({ settings: undefined, flagTarget: { host: '127.0.0.1', port: 39540 } });
    expect(service.status).toMatchObject({ enabled: true, target: '127.0.0.1:39540', source: 'flag' });
    service.settingsChanged(undefined);
    expect(service.status.source).toBe('flag');
    service.settingsChanged({ ...defaultVmcSettings, naming: 'vrm0' });
    expect(service.status).toMatchObject({ enabled: false, source: 'settings', naming: 'vrm0' });
    service.close();
  });
});

describe('VMC status in the settings panel', () => {
  it('says where the bundles go, with which names and why, or what fails', async () => {
    const { vmcStatusText } = await import('../../app/renderer/vmc/vmc-output');
    expect(vmcStatusText(null)).toBe('');
    expect(vmcStatusText({ type: 'vmc.status', enabled: false, naming: 'vrm1', target: '127.0.0.1:39539', source: 'settings' })).toBe('VMC output is off.');
    expect(vmcStatusText({ type: 'vmc.status', enabled: true, naming: 'vrm0', target: '127.0.0.1:39539', source: 'flag' })).toBe(
      'Sending to 127.0.0.1:39539 with VRM 0.x names (from --vmc-out for this run).',
    );
    expect(vmcStatusText({ type: 'vmc.status', enabled: true, naming: 'vrm1', target: '10.0.0.2:39539', source: 'settings', problem: 'network unreachable' })).toBe(
      'Sending to 10.0.0.2:39539 fails: network unreachable',
    );
  });
});
