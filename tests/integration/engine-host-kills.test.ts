import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeHostsOf } from '../../bench/process-probes';
import { composeAppEngine, type AppEngine } from '../../app/engine/compose-app-engine';
import type { ServerMessage } from '../../app/shared/messages.contract';
import type { WorkerKind } from '../../app/shared/worker.contract';
import { micFrames, scriptedConfig, sendMic, TestClient } from './engine-harness';

/**
 * Runtime hosts killed from outside (SIGKILL, as the OOM killer or a native abort would), one kind
 * at a time, each in its own host process: mid-turn, then again while its replacement is loading;
 * and a worker that hangs (no pong within the ping deadline).
 * After each the app answers the next turn (by voice for VAD and STT), and the kept conversation
 * still holds everything the user said and everything the avatar was heard saying. The real
 * composition (settings, journal in the data folder) on scripted workers with delays wide enough
 * to kill inside them.
 */

type TurnEnded = Extract<ServerMessage, { type: 'turn.ended' }>;
type Loaded = Extract<ServerMessage, { type: 'conversation.loaded' }>;

const TRANSCRIPT = 'Remember the word banana.';
const HOSTS: Record<'vad' | 'stt' | 'llm' | 'tts' | 'turn', string> = { vad: 'vad-host', stt: 'stt-host', llm: 'llm-host', tts: 'tts-host', turn: 'turn-host' };

const dataDir = mkdtempSync(join(tmpdir(), 'avatar-host-kills-'));
let app: AppEngine;
let client: TestClient;
let sessionId = '';
let micSeq = 0;
/** What the user said (typed or transcribed) and what the avatar was heard saying, in order. */
const said: string[] = [];
const heard: string[] = [];

beforeAll(async () => {
  const loadMs = 700;
  const base = scriptedConfig(
    {
      vad: { host: HOSTS.vad, options: { loadMs, vadProbability: 'state' } },
      stt: { host: HOSTS.stt, options: { loadMs, sttMs: 1500, transcript: TRANSCRIPT } },
      llm: { host: HOSTS.llm, options: { loadMs, firstTokenMs: 1500, tokenMs: 5, failOn: [{ contains: 'HANG', mode: 'hang' }] } },
      tts: { host: HOSTS.tts, options: { loadMs, ttsFirstChunkMs: 1500 } },
    },
    { health: { pingIntervalMs: 150, pingDeadlineMs: 1500, memoryCeilingBytes: 400e6 }, hostRestartDelayMs: 50 },
  );
  app = await composeAppEngine({
    profile: 'scripted',
    dataDir,
    modelsDir: join(dataDir, 'models'),
    onWarning: () => undefined,
    base: {
      ...base,
      // The end-of-turn model scores every utterance (slowly enough to be killed while it does).
      workers: { ...base.workers, turn: { engine: 'scripted', modelName: 'scripted-turn', count: 1, host: HOSTS.turn, options: { loadMs, turnMs: 1500 }, cpuBound: false } },
      pipeline: { ...base.pipeline, turnDetection: { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 3000, vadSilenceMs: 200 } },
    },
  });
  await app.engine.start();
  client = new TestClient(app.engine);
  sessionId = await client.openSession();
}, 60_000);

afterAll(async () => {
  await app?.engine.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const untilMs = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > untilMs) throw new Error(`timed out waiting for ${what}; workers ${JSON.stringify(app.instance.pool.status())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function hostPid(kind: keyof typeof HOSTS): number {
  return app.instance.pool.host(HOSTS[kind])!.pid!;
}

/** SIGKILLs the host of `kind` once `when` holds; resolves with the pid it killed. */
async function killHostWhen(kind: keyof typeof HOSTS, what: string, when: () => boolean): Promise<number> {
  await until(what, when);
  const pid = hostPid(kind);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** After a mid-turn kill: kills the replacement host while its worker loads, then waits for a ready one. */
async function killMidLoadThenRecover(kind: keyof typeof HOSTS, killedPid: number): Promise<void> {
  const pool = app.instance.pool;
  const loading = (): boolean => pool.host(HOSTS[kind])?.alive === true && hostPid(kind) !== killedPid && pool.workersOf(kind).some((worker) => worker.lifecycle === 'loading');
  const secondPid = await killHostWhen(kind, `a ${kind} host loading its worker`, loading);
  await until(
    `a ready ${kind} worker in a third host`,
    () => pool.host(HOSTS[kind])?.alive === true && ![killedPid, secondPid].includes(hostPid(kind)) && pool.workersOf(kind).some((worker) => worker.lifecycle === 'ready'),
  );
}

function leased(kind: WorkerKind): () => boolean {
  return () => app.instance.pool.workersOf(kind).some((worker) => worker.leased);
}

async function textTurn(text: string): Promise<TurnEnded> {
  const from = client.messages.length;
  client.send({ type: 'user.text', sessionId, text });
  said.push(text);
  return client.turnEnded(sessionId, from, 30_000);
}

/** A spoken utterance (speech, then silence) answered by a voice turn. */
async function voiceTurn(): Promise<TurnEnded> {
  const from = client.messages.length;
  micSeq = sendMic(client, sessionId, micFrames('speech', 600), micSeq);
  micSeq = sendMic(client, sessionId, micFrames('silence', 800), micSeq);
  const ended = await client.turnEnded(sessionId, from, 30_000);
  said.push(TRANSCRIPT);
  return ended;
}

function expectAnswered(ended: TurnEnded): void {
  expect(ended.status).toBe('complete');
  expect(ended.heardText.length).toBeGreaterThan(0);
  heard.push(ended.heardText);
}

/** A spoken turn whose worker was killed under it: answered after all (a retry, the pause deciding), or failed with a recoverable error. */
function expectAnsweredOrFailedInWords(ended: TurnEnded, from: number): void {
  said.push(TRANSCRIPT);
  if (ended.status === 'complete') heard.push(ended.heardText);
  else {
    expect(ended.status).toBe('failed');
    expect(client.messages.slice(from).find((m) => m.type === 'error')).toMatchObject({ recoverable: true });
  }
}

describe('runtime hosts killed mid-turn and mid-load', { timeout: 120_000 }, () => {
  it('the LLM host: the turn fails in words, the replacement is killed while loading, the next turn is answered', async () => {
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: 'My name is Ada.' });
    said.push('My name is Ada.');
    const killed = await killHostWhen('llm', 'the LLM leased', leased('llm'));
    const [failed] = await Promise.all([client.turnEnded(sessionId, from, 30_000), killMidLoadThenRecover('llm', killed)]);
    expect(failed.status).toBe('failed');
    expect(client.ofTurn('error', failed.turnId)[0]).toMatchObject({ code: 'worker_crashed', recoverable: true });
    expectAnswered(await textTurn('Are you back, LLM?'));
  });

  it('the TTS host: same, and what was never spoken is not kept as heard', async () => {
    const from = client.messages.length;
    client.send({ type: 'user.text', sessionId, text: 'Tell me about the sea.' });
    said.push('Tell me about the sea.');
    const killed = await killHostWhen('tts', 'the TTS leased', leased('tts'));
    const [failed] = await Promise.all([client.turnEnded(sessionId, from, 30_000), killMidLoadThenRecover('tts', killed)]);
    expect(failed.status).toBe('failed');
    expect(failed.heardText).toBe('');
    expectAnswered(await textTurn('Are you back, voice?'));
  });

  it('the STT host: killed while transcribing; the utterance is answered or fails in words, the next spoken turn is transcribed and answered', async () => {
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('speech', 600), micSeq);
    micSeq = sendMic(client, sessionId, micFrames('silence', 800), micSeq);
    const killed = await killHostWhen('stt', 'the STT leased', leased('stt'));
    const [ended] = await Promise.all([client.turnEnded(sessionId, from, 30_000), killMidLoadThenRecover('stt', killed)]);
    expectAnsweredOrFailedInWords(ended, from);
    const answered = await voiceTurn();
    expectAnswered(answered);
    expect(client.messages.find((m) => m.type === 'transcript' && m.turnId === answered.turnId && m.final)).toMatchObject({ text: TRANSCRIPT });
  });

  it('the VAD host: killed while the user speaks; once it is back the next utterance is heard and answered', async () => {
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('speech', 300), micSeq);
    await until('the VAD to hear speech', () => client.messages.slice(from).some((m) => m.type === 'vad'), 10_000);
    const killed = hostPid('vad');
    process.kill(killed, 'SIGKILL');
    // The user goes on talking into a dead VAD: those frames are lost, the app says so or stays quiet, but does not break.
    micSeq = sendMic(client, sessionId, micFrames('speech', 300), micSeq);
    micSeq = sendMic(client, sessionId, micFrames('silence', 800), micSeq);
    await killMidLoadThenRecover('vad', killed);
    const errors = client.messages.slice(from).filter((m) => m.type === 'error');
    for (const error of errors) expect(error).toMatchObject({ recoverable: true });
    expectAnswered(await voiceTurn());
  });

  it('the end-of-turn host: killed while it scores an utterance; the utterance still becomes a turn or fails in words, and the next one is answered', async () => {
    const from = client.messages.length;
    micSeq = sendMic(client, sessionId, micFrames('speech', 600), micSeq);
    micSeq = sendMic(client, sessionId, micFrames('silence', 800), micSeq);
    const killed = await killHostWhen('turn', 'the end-of-turn model leased', leased('turn'));
    const [ended] = await Promise.all([client.turnEnded(sessionId, from, 30_000), killMidLoadThenRecover('turn', killed)]);
    expectAnsweredOrFailedInWords(ended, from);
    expectAnswered(await voiceTurn());
  });

  it('a hung LLM worker misses its ping deadline: it is replaced, the turn fails in words, the next turn is answered', async () => {
    const hung = app.instance.pool.workersOf('llm')[0]!.id;
    const failed = await textTurn('Please HANG for a while.');
    expect(failed.status).toBe('failed');
    expect(client.ofTurn('error', failed.turnId)[0]).toMatchObject({ code: 'worker_hung', recoverable: true });
    await until('a ready LLM worker', () => app.instance.pool.workersOf('llm').some((worker) => worker.lifecycle === 'ready' && worker.id !== hung));
    expectAnswered(await textTurn('Are you awake again?'));
  });

  it('nothing the user said or was told is lost: a new session continues the kept conversation with all of it', async () => {
    // The page closes its session (a reload, a restart) and the next one continues the conversation.
    client.send({ type: 'session.close', sessionId });
    const other = new TestClient(app.engine);
    const from = other.messages.length;
    other.send({ type: 'session.open', requestId: 'after-kills' });
    const loaded = await other.waitFor((m): m is Loaded => m.type === 'conversation.loaded', 20_000, from);
    const users = loaded.entries.filter((entry) => entry.type === 'user').map((entry) => entry.text);
    const avatar = loaded.entries.filter((entry) => entry.type === 'avatar').map((entry) => entry.text);
    for (const text of said) expect(users).toContain(text);
    for (const text of heard) expect(avatar).toContain(text);
    // The LLM context of the continuing session holds it too.
    const opened = await other.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened', 20_000, from);
    const history = app.instance.session(opened.sessionId)!.history.map((message) => message.content);
    for (const text of [...said, ...heard]) expect(history).toContain(text);
    // Every killed host was replaced exactly once: the live host processes are the pool's own, none orphaned.
    const live = [...runtimeHostsOf(process.pid).keys()].sort();
    expect(live).toEqual(Object.values(HOSTS).map((name) => app.instance.pool.host(name)!.pid!).sort());
  });
});
