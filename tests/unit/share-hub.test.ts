import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { CLOSE_BUSY, CLOSE_NOT_CONNECTED, CLOSE_REPLACED, parseIceServersJson, type PeerConnectionState, type ShareServerMessage } from '../../app/shared/share.contract';
import { ShareHub } from '../../app/engine/share/share-hub';

/** A signaling socket that records what the hub sends and how it was closed. */
class RecordingSocket {
  readonly sent: ShareServerMessage[] = [];
  closedWith: number | null = null;
  send(message: ShareServerMessage): void {
    this.sent.push(message);
  }
  close(code: number): void {
    this.closedWith = code;
  }
  ofType<T extends ShareServerMessage['type']>(type: T): Extract<ShareServerMessage, { type: T }>[] {
    return this.sent.filter((message): message is Extract<ShareServerMessage, { type: T }> => message.type === type);
  }
}

function hub(maxViewers = 4, whepAnswerTimeoutMs = 1000, peerConnectTimeoutMs?: number): ShareHub {
  return new ShareHub({ ice: { iceServers: [], iceTransportPolicy: 'all' }, maxViewers, viewToken: 'view-token', whepAnswerTimeoutMs, peerConnectTimeoutMs });
}

const offer = { type: 'offer', sdp: 'v=0\r\n' } as const;

describe('share hub', () => {
  it('joins a waiting viewer when a sender arrives and routes signals both ways by peer id', () => {
    const share = hub();
    const viewer = new RecordingSocket();
    const fromViewer = share.attachViewer(viewer)!;
    expect(viewer.sent.map((message) => message.type)).toEqual(['share.config', 'sender.left']);
    // Viewers do not learn the view token (only the sender shows it).
    expect(viewer.ofType('share.config')[0]!.viewToken).toBeUndefined();

    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    expect(sender.ofType('share.config')[0]!.viewToken).toBe('view-token');
    const [join] = sender.ofType('peer.join');
    expect(join).toBeDefined();
    expect(viewer.ofType('sender.ready')).toHaveLength(1);

    fromSender.handle(JSON.stringify({ type: 'signal', peerId: join!.peerId, data: offer }));
    expect(viewer.ofType('signal')).toEqual([{ type: 'signal', peerId: join!.peerId, data: offer }]);
    // A viewer cannot pose as another peer: the hub stamps its own id.
    fromViewer.handle(JSON.stringify({ type: 'signal', peerId: 'someone-else', data: { type: 'answer', sdp: 'v=0\r\n' } }));
    expect(sender.ofType('signal')).toEqual([{ type: 'signal', peerId: join!.peerId, data: { type: 'answer', sdp: 'v=0\r\n' } }]);

    fromViewer.close();
    expect(sender.ofType('peer.leave')).toEqual([{ type: 'peer.leave', peerId: join!.peerId }]);
    expect(sender.ofType('share.viewers').at(-1)).toEqual({ type: 'share.viewers', count: 0 });
  });

  it('answers a viewer beyond the cap with a busy error and closes it for a later retry', () => {
    const share = hub(1);
    share.attachViewer(new RecordingSocket());
    const late = new RecordingSocket();
    expect(share.attachViewer(late)).toBeNull();
    expect(late.ofType('share.error')[0]).toMatchObject({ code: ErrorCode.PoolExhausted, fatal: true });
    expect(late.ofType('share.error')[0]!.message).toContain('busy');
    expect(late.closedWith).toBe(CLOSE_BUSY);
  });

  it('lets a newer sender take over: viewers are told the sender left, then joined to the new one', () => {
    const share = hub();
    const viewer = new RecordingSocket();
    share.attachViewer(viewer);
    const first = new RecordingSocket();
    const firstConnection = share.attachSender(first);
    const second = new RecordingSocket();
    share.attachSender(second);
    expect(first.closedWith).toBe(CLOSE_REPLACED);
    expect(viewer.sent.map((message) => message.type)).toEqual(['share.config', 'sender.left', 'sender.ready', 'sender.left', 'sender.ready']);
    expect(second.ofType('peer.join')).toHaveLength(1);
    // The old socket's late close does not unseat the new sender.
    firstConnection.close();
    expect(share.hasSender).toBe(true);
    firstConnection.handle(JSON.stringify({ type: 'signal', peerId: second.ofType('peer.join')[0]!.peerId, data: offer }));
    expect(viewer.ofType('signal')).toHaveLength(0);
  });

  it('forwards a WHEP offer to the sender and resolves with its answer; DELETE ends the session', async () => {
    const share = hub();
    await expect(share.whepOffer('v=0\r\n')).rejects.toMatchObject({ code: ErrorCode.PoolExhausted });
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const pending = share.whepOffer('v=0\r\noffer');
    const [forwarded] = sender.ofType('whep.offer');
    expect(forwarded!.sdp).toBe('v=0\r\noffer');
    expect(share.viewerCount).toBe(1);
    fromSender.handle(JSON.stringify({ type: 'whep.answer', peerId: forwarded!.peerId, sdp: 'v=0\r\nanswer' }));
    await expect(pending).resolves.toEqual({ peerId: forwarded!.peerId, sdp: 'v=0\r\nanswer' });
    expect(share.whepEnd(forwarded!.peerId)).toBe(true);
    expect(share.whepEnd(forwarded!.peerId)).toBe(false);
    expect(sender.ofType('peer.leave')).toEqual([{ type: 'peer.leave', peerId: forwarded!.peerId }]);
    expect(share.viewerCount).toBe(0);
  });

  it('fails a WHEP offer the sender does not answer in time and frees its place', async () => {
    const share = hub(4, 50);
    share.attachSender(new RecordingSocket());
    const error = await share.whepOffer('v=0\r\n').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain('did not answer');
    expect(share.viewerCount).toBe(0);
  });

  it('answers bad input with a typed, non-fatal error and routes nothing', () => {
    const share = hub();
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const viewer = new RecordingSocket();
    const fromViewer = share.attachViewer(viewer)!;
    fromSender.handle('not json');
    fromSender.handle(JSON.stringify({ type: 'signal', peerId: 'x', data: { type: 'offer', sdp: 'v=0', extra: 1 } }));
    expect(sender.ofType('share.error').map((message) => [message.code, message.fatal])).toEqual([
      [ErrorCode.InvalidMessage, false],
      [ErrorCode.InvalidMessage, false],
    ]);
    fromViewer.handle(JSON.stringify({ type: 'whep.answer', peerId: 'w-1', sdp: 'v=0' }));
    expect(viewer.ofType('share.error')[0]).toMatchObject({ code: ErrorCode.Unauthorized, fatal: false });
    expect(viewer.ofType('signal')).toHaveLength(0);
    expect(sender.ofType('signal')).toHaveLength(0);
  });

  it('reads STUN/TURN servers from JSON and names what is wrong', () => {
    expect(parseIceServersJson('[{"urls":"turn:127.0.0.1:3478","username":"u","credential":"p"}]')).toEqual([
      { urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' },
    ]);
    expect(() => parseIceServersJson('[{"url":"stun:x"}]')).toThrow(/not valid/);
    expect(() => parseIceServersJson('{')).toThrow(/must be JSON/);
  });
});

/** A WHEP session the sender answered at once; resolves with its id. */
async function answeredWhep(share: ShareHub, sender: RecordingSocket, fromSender: { handle(text: string): void }): Promise<string> {
  const pending = share.whepOffer('v=0\r\noffer');
  const offered = sender.ofType('whep.offer').at(-1)!;
  fromSender.handle(JSON.stringify({ type: 'whep.answer', peerId: offered.peerId, sdp: 'v=0\r\nanswer' }));
  return (await pending).peerId;
}

function peerState(peerId: string, state: PeerConnectionState): string {
  return JSON.stringify({ type: 'peer.state', peerId, state });
}

describe('share hub: every place ends', () => {
  const TTL_MS = 30_000;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('frees abandoned WHEP sessions: four POSTs without DELETE, and after the TTL a new viewer gets in', async () => {
    const share = hub(4, 1000, TTL_MS);
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const abandoned: string[] = [];
    for (let i = 0; i < 4; i++) abandoned.push(await answeredWhep(share, sender, fromSender));
    await expect(share.whepOffer('v=0\r\n')).rejects.toMatchObject({ code: ErrorCode.PoolExhausted });
    const late = new RecordingSocket();
    expect(share.attachViewer(late)).toBeNull();

    vi.advanceTimersByTime(TTL_MS);
    expect(share.viewerCount).toBe(0);
    expect(sender.ofType('peer.leave').map((message) => message.peerId)).toEqual(abandoned);
    expect(share.attachViewer(new RecordingSocket())).not.toBeNull();
    expect(await answeredWhep(share, sender, fromSender)).toMatch(/^w-/);
    // DELETE of an expired session is a 404, as for any unknown one.
    expect(share.whepEnd(abandoned[0]!)).toBe(false);
  });

  it('keeps a WHEP session the sender reports connected, and frees it at once when the sender reports it failed', async () => {
    const share = hub(4, 1000, TTL_MS);
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const watching = await answeredWhep(share, sender, fromSender);
    fromSender.handle(peerState(watching, 'connecting'));
    fromSender.handle(peerState(watching, 'connected'));
    vi.advanceTimersByTime(10 * TTL_MS);
    expect(share.viewerCount).toBe(1);

    // A disconnection must heal within the TTL…
    fromSender.handle(peerState(watching, 'disconnected'));
    vi.advanceTimersByTime(TTL_MS - 1);
    fromSender.handle(peerState(watching, 'connected'));
    vi.advanceTimersByTime(TTL_MS);
    expect(share.viewerCount).toBe(1);
    // …and a failed connection ends the session without waiting.
    fromSender.handle(peerState(watching, 'failed'));
    expect(share.viewerCount).toBe(0);
    expect(sender.ofType('peer.leave').map((message) => message.peerId)).toEqual([watching]);
  });

  it('keeps an unreported WHEP session while its client is active, and frees it a TTL after the last activity', async () => {
    const share = hub(4, 1000, TTL_MS);
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const session = await answeredWhep(share, sender, fromSender);
    vi.advanceTimersByTime(TTL_MS - 1000);
    expect(share.whepTouch(session)).toBe(true);
    vi.advanceTimersByTime(TTL_MS - 1000);
    expect(share.viewerCount).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(share.viewerCount).toBe(0);
    expect(share.whepTouch(session)).toBe(false);
  });

  it('still ends a WHEP session on DELETE, and its timer with it', async () => {
    const share = hub(4, 1000, TTL_MS);
    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const session = await answeredWhep(share, sender, fromSender);
    expect(share.whepEnd(session)).toBe(true);
    vi.advanceTimersByTime(TTL_MS);
    expect(sender.ofType('peer.leave')).toHaveLength(1);
  });

  it('closes a joined viewer whose connection never comes up, with the reason, and lets it rejoin', () => {
    const share = hub(1, 1000, TTL_MS);
    const viewer = new RecordingSocket();
    share.attachViewer(viewer);
    // Waiting for a sender is not a stalled connection.
    vi.advanceTimersByTime(10 * TTL_MS);
    expect(viewer.closedWith).toBeNull();

    const sender = new RecordingSocket();
    const fromSender = share.attachSender(sender);
    const [join] = sender.ofType('peer.join');
    vi.advanceTimersByTime(TTL_MS);
    expect(viewer.closedWith).toBe(CLOSE_NOT_CONNECTED);
    expect(viewer.ofType('share.error')[0]!.message).toMatch(/no WebRTC connection within 30 s/);
    expect(sender.ofType('peer.leave')).toEqual([{ type: 'peer.leave', peerId: join!.peerId }]);
    expect(share.viewerCount).toBe(0);

    const again = new RecordingSocket();
    const rejoined = share.attachViewer(again)!;
    const peerId = sender.ofType('peer.join')[1]!.peerId;
    fromSender.handle(peerState(peerId, 'connected'));
    vi.advanceTimersByTime(10 * TTL_MS);
    expect(again.closedWith).toBeNull();
    rejoined.close();
    expect(share.viewerCount).toBe(0);
  });
});
