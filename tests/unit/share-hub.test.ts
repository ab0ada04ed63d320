import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { CLOSE_BUSY, CLOSE_REPLACED, parseIceServersJson, type ShareServerMessage } from '../../app/shared/share.contract';
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

function hub(maxViewers = 4, whepAnswerTimeoutMs = 1000): ShareHub {
  return new ShareHub({ ice: { iceServers: [], iceTransportPolicy: 'all' }, maxViewers, viewToken: 'view-token', whepAnswerTimeoutMs });
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
