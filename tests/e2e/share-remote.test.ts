import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../app/engine/lipsync/wav-file';
import { synthesizeScriptedSpeech } from '../../app/native-workers/scripted/scripted-speech';
import { chromiumMissingReason, fakeMicrophoneArgs, upgradeStatus } from '../support/serve-process';
import { countViewerFrames, launchShareBrowser, loudestReceivedAudio, meterReceivedAudio, openViewer, startShareServe, waitForTalkReady, waitForViewerState, type ShareServe } from '../support/share-session';

/**
 * Two-way remote conversation in real Chromium: `serve --remote-talk --renderer-pool 1` keeps one
 * pre-warmed avatar renderer (a headless Chromium page of its own). A talker page
 * (`/view?token=<talk token>&talk=1`) sends Chromium's fake microphone, which loops a spoken
 * question, on the peer connection; the pooled renderer's engine session (scripted profile: energy
 * VAD, an STT that reports the utterance length) hears it and the avatar answers with video, voice
 * and captions. The looped question comes back while the avatar talks: a barge-in. A second talker
 * is told the avatar is busy, and gets a fresh session once the first leaves. The renderer offers the
 * talker mDNS names, never this machine's addresses.
 */

const SAMPLE_RATE_HZ = 16_000;
/** Short, so the talk outlasts it: a talker keeps its renderer only because the renderer reports the connection up. */
const PEER_CONNECT_TIMEOUT_SEC = 10;

const missing = chromiumMissingReason();

let serve: ShareServe;
let talkUrl: URL;
let browser: Browser;
let workDir = '';

/** 0.5 s of silence, a spoken question, 4 s of silence (the loop's gap lets the reply start before the question returns). */
function writeQuestionWav(): string {
  workDir = mkdtempSync(join(tmpdir(), 'avatar-remote-'));
  const question = synthesizeScriptedSpeech('Hello there avatar how is the weather today', SAMPLE_RATE_HZ).pcm;
  const pcm = new Float32Array(Math.round(SAMPLE_RATE_HZ * 4.5) + question.length);
  pcm.set(question, SAMPLE_RATE_HZ / 2);
  const path = join(workDir, 'question.wav');
  writeFileSync(path, encodeWav({ pcm, sampleRateHz: SAMPLE_RATE_HZ }));
  return path;
}

/** Collects in `window.remoteCandidates` every ICE candidate the page is given by its peer (in the SDP or trickled). */
const RECORD_REMOTE_CANDIDATES = `
  window.remoteCandidates = [];
  const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (description) {
    for (const line of (description && description.sdp || '').split(/\\r?\\n/)) if (line.startsWith('a=candidate:')) window.remoteCandidates.push(line.slice(2));
    return setRemote.apply(this, arguments);
  };
  const addCandidate = RTCPeerConnection.prototype.addIceCandidate;
  RTCPeerConnection.prototype.addIceCandidate = function (candidate) {
    if (candidate && candidate.candidate) window.remoteCandidates.push(candidate.candidate);
    return addCandidate.apply(this, arguments);
  };`;

/** A talker is a viewer page on the talk address. */
function openTalker(query = ''): Promise<Page> {
  return openViewer(browser, { viewUrl: talkUrl }, query, RECORD_REMOTE_CANDIDATES);
}

const waitFor = (page: Page, what: string, predicate: () => boolean, timeoutMs: number): Promise<void> => waitForViewerState(page, serve, what, predicate, timeoutMs);

beforeAll(async () => {
  if (missing) return;
  const wav = writeQuestionWav();
  serve = await startShareServe('scripted', ['--remote-talk', '--renderer-pool', '1', '--peer-connect-timeout', String(PEER_CONNECT_TIMEOUT_SEC)]);
  talkUrl = await waitForTalkReady(serve);
  browser = await launchShareBrowser(fakeMicrophoneArgs(wav));
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe.skipIf(missing !== null)(`remote talk (fake microphone → pooled renderer → avatar reply)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('only the talk token talks and only the app token registers a renderer', async () => {
    const talkToken = talkUrl.searchParams.get('token')!;
    expect(talkToken).not.toBe(serve.viewToken);
    expect(await upgradeStatus(serve.url, `/signal?role=talker&token=${encodeURIComponent(serve.viewToken)}`)).toBe(401);
    expect(await upgradeStatus(serve.url, `/signal?role=talker&token=${encodeURIComponent(serve.appToken)}`)).toBe(401);
    expect(await upgradeStatus(serve.url, `/signal?role=renderer&token=${encodeURIComponent(talkToken)}`)).toBe(401);
    expect(await upgradeStatus(serve.url, `/signal?role=viewer&token=${encodeURIComponent(talkToken)}`)).toBe(401);
  });

  it('a remote talker speaks and gets an answer; barge-in works; a second talker is busy, then gets a fresh session', async () => {
    const first = await openTalker('&captions=1');
    await waitFor(first, 'the avatar stream at the talker', () => window.avatarViewerStatus?.state === 'playing' && document.querySelector('video')!.videoWidth > 0, 30_000);
    const playingSinceMs = Date.now();
    expect((await first.evaluate(() => window.avatarTalkStatus!)).microphone).toBe('on');
    // The pooled renderer keeps Chromium's mDNS hiding on: the talker (a stranger) sees no host address of this machine.
    const candidates = await first.evaluate(() => (window as unknown as { remoteCandidates: string[] }).remoteCandidates);
    const hostAddresses = candidates.filter((candidate) => candidate.includes(' typ host')).map((candidate) => candidate.split(' ')[4]);
    expect(hostAddresses.length).toBeGreaterThan(0);
    for (const address of hostAddresses) expect(address).toMatch(/^[0-9a-f-]+\.local$/);

    // The pooled renderer's own engine session heard the question and the avatar answers.
    await waitFor(first, 'a transcript and a reply', () => (window.avatarTalkStatus?.heard.length ?? 0) > 0 && (window.avatarTalkStatus?.reply.length ?? 0) > 0, 30_000);
    const talk = await first.evaluate(() => window.avatarTalkStatus!);
    expect(talk.sessionId).toMatch(/.+/);
    expect(talk.heard[0]).toMatch(/spoke for \d/i);
    // The answer is heard at the talker: the avatar's voice arrives on the received track, with moving video.
    await meterReceivedAudio(first);
    await first.waitForTimeout(3000);
    expect(await loudestReceivedAudio(first)).toBeGreaterThan(0.01);
    // (Software WebGL on a shared machine draws a few frames per second.)
    expect((await countViewerFrames(first, 2500)).frames).toBeGreaterThanOrEqual(2);
    // Captions show on the page with `captions=1`.
    expect(await first.getByRole('log').textContent()).toContain('Avatar:');

    // The looped question returns while the avatar talks: the remote speaker barges in.
    await waitFor(first, 'a barge-in by the remote talker', () => (window.avatarTalkStatus?.bargeIns ?? 0) > 0, 30_000);

    // Capacity is one conversation: a second talker is told so.
    const second = await openTalker();
    await waitFor(second, 'a busy answer', () => /busy/i.test(window.avatarViewerStatus?.error ?? ''), 15_000);
    expect(await second.getByRole('log').textContent()).toMatch(/busy/i);
    expect((await second.evaluate(() => window.avatarViewerStatus!)).state).not.toBe('playing');

    // The lease lasts while media flows: past the connect timeout the first talker is still on its first stream and session.
    const leftMs = PEER_CONNECT_TIMEOUT_SEC * 1000 + 2000 - (Date.now() - playingSinceMs);
    if (leftMs > 0) await first.waitForTimeout(leftMs);
    expect(await first.evaluate(() => window.avatarViewerStatus!)).toMatchObject({ state: 'playing', streams: 1 });
    expect((await first.evaluate(() => window.avatarTalkStatus!)).sessionId).toBe(talk.sessionId);

    // The first talker leaves: the renderer goes back to the pool with a new engine session, and the waiting talker gets it.
    await first.close();
    await waitFor(second, 'the freed renderer', () => window.avatarViewerStatus?.state === 'playing' && window.avatarTalkStatus?.sessionId !== null, 30_000);
    const fresh = await second.evaluate(() => window.avatarTalkStatus!);
    expect(fresh.sessionId).not.toBe(talk.sessionId);
    await waitFor(second, 'the second talker heard', () => (window.avatarTalkStatus?.heard.length ?? 0) > 0, 30_000);
    await second.close();
  });
});
