import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { resample, writeWavFile } from '../../app/engine/lipsync/wav-file';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import type { TurnJson } from '../../app/hosts/cli/turn-command';
import { OFFLINE_NATIVE_ENV } from '../../app/native-workers/offline-env';
import { PiperVoice } from '../../app/native-workers/piper/piper-voice';

/**
 * Offline, proven: a spoken question goes through the whole engine on the development models
 * (silero VAD, Smart Turn, whisper tiny.en, SmolLM2, Piper; every worker thread of a real session)
 * inside a network namespace that has only loopback (`unshare -n`), traced by `strace -f` for every
 * socket connect/send. The turn is answered, and no connection to anything but loopback was even
 * attempted: the trace is the evidence, not the namespace (in it such a connect would fail, and a
 * failure the engine swallows would otherwise go unseen). It found onnxruntime's telemetry uploader
 * looking up mobile.events.data.microsoft.com from the Smart Turn host, now turned off (offline-env.ts).
 */
const dev = await devModelsOrSkipReason();

function missingTool(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'unshare -n needs root';
  for (const tool of ['unshare', 'strace', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install util-linux strace iproute2)`;
  }
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return 'this machine does not allow new network namespaces';
  return null;
}

const toolReason = missingTool();
const skipReason = !dev.ok ? dev.skipReason : toolReason;

/** One traced socket call: the syscall and the address family and address it named. */
interface SocketCall {
  line: string;
  family: string;
  address: string | undefined;
}

/** connect/sendto/sendmsg lines of an strace log that name an address (calls on connected sockets name none). */
function socketCalls(trace: string): SocketCall[] {
  const calls: SocketCall[] = [];
  for (const line of trace.split('\n')) {
    const family = /sa_family=(AF_[A-Z0-9]+)/.exec(line)?.[1];
    if (!family || !/\b(connect|sendto|sendmsg)\(/.test(line)) continue;
    const address = /inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
    calls.push({ line, family, address: address?.[1] ?? address?.[2] });
  }
  return calls;
}

const isLoopback = (call: SocketCall): boolean =>
  call.family === 'AF_UNIX' || call.family === 'AF_NETLINK' || (call.address !== undefined && (/^127\./.test(call.address) || call.address === '::1'));

describe.skipIf(skipReason !== null)(`offline in a loopback-only network namespace${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('answers a spoken question and tries no connection beyond loopback', { timeout: 600_000 }, async () => {
    if (!dev.ok) return;
    const dir = mkdtempSync(join(tmpdir(), 'offline-netns-'));
    const voice = await PiperVoice.load({ modelPath: dev.profile.tts.piperOnnxPath, cacheDir: join(dir, 'piper'), noiseScale: 0, noiseW: 0 });
    const spoken = await voice.synthesize('What is the capital of France?');
    const rate = 16_000;
    const speech = resample(spoken.pcm, spoken.sampleRateHz, rate);
    const pcm = new Float32Array(0.5 * rate + speech.length + 2.5 * rate);
    pcm.set(speech, 0.5 * rate);
    const question = join(dir, 'question.wav');
    await writeWavFile(question, { pcm, sampleRateHz: rate });

    const tracePath = join(dir, 'connect.trace');
    const linksPath = join(dir, 'links.txt');
    const cli = [process.execPath, '--import', 'tsx', join(appRoot, 'app/hosts/cli/cli.ts'), 'turn', '--audio', question, '--out', dir, '--profile', 'dev'];
    const quoted = cli.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
    // In the new namespace: bring loopback up, record which interfaces exist, then run the engine under strace.
    const script = `ip link set lo up && ip -o link show > '${linksPath}' && exec strace -f -qq -e trace=connect,sendto,sendmsg -o '${tracePath}' ${quoted}`;
    // The app must keep its runtimes offline by itself: nothing from this test's environment helps it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in OFFLINE_NATIVE_ENV)));
    const result = spawnSync('unshare', ['-n', 'sh', '-c', script], { cwd: appRoot, encoding: 'utf8', timeout: 400_000, env });
    expect(result.status, result.stderr).toBe(0);

    // The namespace had loopback and nothing else.
    const links = readFileSync(linksPath, 'utf8').trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo:/);

    const turn = JSON.parse(readFileSync(join(dir, 'turn.json'), 'utf8')) as TurnJson;
    expect(turn.status).toBe('complete');
    expect(turn.transcript.toLowerCase()).toMatch(/capital/);
    expect(turn.reply.trim().length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'reply.wav'))).toBe(true);

    const calls = socketCalls(readFileSync(tracePath, 'utf8'));
    const outside = calls.filter((call) => !isLoopback(call));
    expect(outside.map((call) => call.line)).toEqual([]);
  });
});

describe.skipIf(toolReason !== null)(`the offline trace check${toolReason ? ` (SKIPPED: ${toolReason})` : ''}`, () => {
  it('catches a connection attempt beyond loopback', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'offline-netns-probe-'));
    const tracePath = join(dir, 'connect.trace');
    const probe = "require('net').connect(80, '192.0.2.1').on('error', () => {}); setTimeout(() => {}, 300);";
    const script = `ip link set lo up && exec strace -f -qq -e trace=connect -o '${tracePath}' '${process.execPath}' -e "${probe}"`;
    const result = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const outside = socketCalls(readFileSync(tracePath, 'utf8')).filter((call) => !isLoopback(call));
    expect(outside.map((call) => call.address)).toEqual(['192.0.2.1']);
  });
});
