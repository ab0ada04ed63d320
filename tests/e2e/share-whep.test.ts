import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { launchShareBrowser, openSharingApp, startShareServe, type ShareServe } from '../support/share-session';

/**
 * WHEP from a plain node client (werift), as OBS's WHEP source or GStreamer's whepsrc would do it:
 * a recvonly offer POSTed with the bearer token gets `201` + a complete answer + a session
 * `Location`; video and audio RTP then arrive from the sharing page; DELETE ends the session.
 */

let serve: ShareServe;
let browser: Browser;
let app: Page;

beforeAll(async () => {
  serve = await startShareServe('scripted');
  browser = await launchShareBrowser();
  app = await openSharingApp(browser, serve);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** A receive-only offer with every ICE candidate in it (WHEP without trickle). */
async function recvonlyOffer(pc: RTCPeerConnection): Promise<string> {
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve()));
  }
  return pc.localDescription!.sdp;
}

describe('WHEP endpoint (node client)', () => {
  it('answers a recvonly offer with 201 and streams video frames and audio until DELETE', async () => {
    const pc = new RTCPeerConnection({});
    const received = { videoPackets: 0, videoFrames: 0, audioPackets: 0 };
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (track.kind === 'video') {
          received.videoPackets += 1;
          // The marker bit closes a video frame.
          if (rtp.header.marker) received.videoFrames += 1;
        } else received.audioPackets += 1;
      });
    });
    try {
      const offer = await recvonlyOffer(pc);
      // A load balancer's affinity key (deploy/haproxy.cfg) stays on the session's address, so the DELETE reaches this engine.
      const conversation = '2026-01-02T03-04-05-678Z-1a2b3c4d';
      const response = await fetch(`${serve.whepUrl}?conversation=${conversation}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${serve.viewToken}` },
        body: offer,
      });
      const answer = await response.text();
      expect(response.status, answer).toBe(201);
      expect(response.headers.get('content-type')).toBe('application/sdp');
      const location = response.headers.get('location')!;
      expect(location).toMatch(/^\/whep\/w-[^?]+\?conversation=2026-01-02T03-04-05-678Z-1a2b3c4d$/);
      // Non-trickle: the answer already carries candidates.
      expect(answer).toMatch(/a=candidate:/);
      expect(answer).toMatch(/m=video/);
      expect(answer).toMatch(/m=audio/);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });

      await expect.poll(() => received.videoFrames, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
      await expect.poll(() => received.audioPackets, { timeout: 10_000 }).toBeGreaterThan(10);
      await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.viewers)).toBe(1);

      // Trickle is not offered; a wrong token cannot end someone's session; the right one can.
      const sessionUrl = new URL(location, serve.whepUrl);
      expect((await fetch(sessionUrl, { method: 'PATCH', headers: { Authorization: `Bearer ${serve.viewToken}` } })).status).toBe(405);
      expect((await fetch(sessionUrl, { method: 'DELETE', headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
      expect((await fetch(sessionUrl, { method: 'DELETE', headers: { Authorization: `Bearer ${serve.viewToken}` } })).status).toBe(200);
      expect((await fetch(sessionUrl, { method: 'DELETE', headers: { Authorization: `Bearer ${serve.viewToken}` } })).status).toBe(404);
      await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.viewers)).toBe(0);
      // The sender closed its side: packets stop.
      await expect.poll(() => app.evaluate(() => window.avatarShareStatus!.connectedPeers)).toBe(0);
    } finally {
      await pc.close();
    }
  });

  it('refuses an offer that is not SDP', async () => {
    const response = await fetch(serve.whepUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${serve.appToken}` },
      body: 'hello',
    });
    expect(response.status).toBe(415);
    const notSdp = await fetch(serve.whepUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${serve.appToken}` },
      body: 'hello',
    });
    expect(notSdp.status).toBe(400);
    expect(await notSdp.text()).toContain('not an SDP offer');
  });
});
