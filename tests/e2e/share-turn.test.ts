import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countViewerFrames, launchShareBrowser, openSharingApp, startShareServe, type ShareServe } from '../support/share-session';

/**
 * TURN for real networks: a local coturn on 127.0.0.1 with a test user, the serve host told to
 * hand it to both peers with `iceTransportPolicy: "relay"`, and the viewer's media proven to flow
 * through a relay candidate pair (host candidates are not even gathered under that policy).
 */

const TURNSERVER = ['/usr/bin/turnserver', '/usr/sbin/turnserver'].find((path) => existsSync(path));
const skipReason = TURNSERVER ? '' : 'turnserver (Debian package coturn) is not installed';

let turn: ChildProcess | undefined;
let turnOutput = '';
let serve: ShareServe;
let browser: Browser;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Counts RTCPeerConnections in the page so the test can read the selected candidate pair. */
const RECORD_PEER_CONNECTIONS = `
  window.__name = (fn) => fn;
  const Native = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__peerConnections.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
`;

beforeAll(async () => {
  if (!TURNSERVER) return;
  const port = await freePort();
  turn = spawn(
    TURNSERVER,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--min-port=49160',
      '--max-port=49400',
      '--lt-cred-mech',
      '--user=avatar:relay-secret',
      '--realm=avatar.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--fingerprint',
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  turn.stdout!.on('data', (chunk: Buffer) => (turnOutput += chunk.toString()));
  turn.stderr!.on('data', (chunk: Buffer) => (turnOutput += chunk.toString()));
  const ice = JSON.stringify([{ urls: `turn:127.0.0.1:${port}?transport=udp`, username: 'avatar', credential: 'relay-secret' }]);
  serve = await startShareServe('scripted', ['--ice-servers', ice, '--ice-transport-policy', 'relay']);
  browser = await launchShareBrowser();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (turn && turn.exitCode === null) {
    const exited = new Promise((resolve) => turn!.once('exit', resolve));
    turn.kill('SIGTERM');
    await exited;
  }
});

describe('share through a TURN relay (local coturn)', () => {
  it.skipIf(!TURNSERVER)(`plays the avatar over relay candidates only${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
    const app = await openSharingApp(browser, serve);
    const context = await browser.newContext({ viewport: { width: 640, height: 360 } });
    await context.addInitScript({ content: RECORD_PEER_CONNECTIONS });
    const viewer = await context.newPage();
    await viewer.goto(serve.viewUrl.href);
    try {
      await viewer.waitForFunction(() => window.avatarViewerStatus?.state === 'playing' && document.querySelector('video')!.videoWidth > 0, null, {
        timeout: 25_000,
      });
    } catch (error) {
      throw new Error(`No stream over TURN. turnserver said:\n${turnOutput.slice(-2000)}`, { cause: error });
    }
    const frames = await countViewerFrames(viewer, 2500);
    expect(frames.frames).toBeGreaterThanOrEqual(2);

    const pair = await viewer.evaluate(async () => {
      const pcs = (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections;
      const report = await pcs.at(-1)!.getStats();
      const stats = [...report.values()] as Array<Record<string, unknown>>;
      const transport = stats.find((entry) => entry.type === 'transport');
      const selected = stats.find((entry) => entry.id === transport?.selectedCandidatePairId);
      const local = stats.find((entry) => entry.id === selected?.localCandidateId);
      const remote = stats.find((entry) => entry.id === selected?.remoteCandidateId);
      return { local: local?.candidateType, remote: remote?.candidateType, bytesReceived: selected?.bytesReceived as number };
    });
    expect(pair.local).toBe('relay');
    expect(pair.remote).toBe('relay');
    expect(pair.bytesReceived).toBeGreaterThan(10_000);
    await app.close();
    await context.close();
  });
});
