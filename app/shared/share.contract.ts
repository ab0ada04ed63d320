import { z } from 'zod';
import { AppError, ErrorCode, ErrorCodeSchema } from './errors.contract';
import { StopReasonSchema, TurnStatusSchema } from './messages.contract';

/**
 * The avatar share's signaling protocol: the renderer that shares (the sender) and each viewer page
 * talk to the engine over WebSocket `/signal?token=…&role=sender|viewer`; the engine routes
 * offers, answers and ICE candidates between them and forwards WHEP offers to the sender.
 */

/**
 * `talker` (remote conversation, talk token only) and `renderer` (a pooled avatar page, app token
 * only) belong to the two-way remote talk: each talker is routed to one leased renderer.
 */
export const ShareRoleSchema = z.enum(['sender', 'viewer', 'talker', 'renderer']);
export type ShareRole = z.infer<typeof ShareRoleSchema>;

/** One STUN or TURN server, as RTCPeerConnection takes it. */
export const IceServerSchema = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

export const IceServersSchema = z.array(IceServerSchema).max(16);

/** What the engine tells both peers about ICE: servers, and whether to use TURN relays only. */
export const IceSettingsSchema = z.strictObject({
  iceServers: IceServersSchema,
  iceTransportPolicy: z.enum(['all', 'relay']),
});
export type IceSettings = z.infer<typeof IceSettingsSchema>;

/** Viewers and WHEP sessions at once, unless configured. */
export const DEFAULT_MAX_VIEWERS = 4;

const PeerId = z.string().min(1).max(64);
const Sdp = z.string().min(1).max(64 * 1024);

/**
 * simple-peer's signal payloads: a session description, an ICE candidate (trickle), or a
 * renegotiation request. Bounded strings, nothing else passes.
 */
export const SignalDataSchema = z.union([
  z.strictObject({ type: z.enum(['offer', 'answer', 'pranswer', 'rollback']), sdp: Sdp }),
  z.strictObject({
    type: z.literal('candidate'),
    candidate: z.strictObject({
      candidate: z.string().max(1024),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
      sdpMid: z.string().max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
  z.strictObject({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
  z.strictObject({
    type: z.literal('transceiverRequest'),
    transceiverRequest: z.strictObject({ kind: z.enum(['audio', 'video']), init: z.looseObject({}).optional() }),
  }),
]);
export type SignalData = z.infer<typeof SignalDataSchema>;

/** Engine → sender or viewer. */
export const ShareServerMessageSchema = z.discriminatedUnion('type', [
  /** First message on every signaling socket. `viewToken` (and `talkToken` with remote talk on) go to the sender only (it shows the links). */
  z.strictObject({
    type: z.literal('share.config'),
    ice: IceSettingsSchema,
    viewToken: z.string().optional(),
    talkToken: z.string().optional(),
    maxViewers: z.number().int(),
  }),
  /** To the sender: a viewer (a page, or a WHEP client answered through `whep.offer`) wants the stream. */
  z.strictObject({ type: z.literal('peer.join'), peerId: PeerId }),
  /** To the sender: that viewer is gone; close its connection. */
  z.strictObject({ type: z.literal('peer.leave'), peerId: PeerId }),
  /** Routed signal: to the sender it names the viewer; to a viewer `peerId` is its own id. */
  z.strictObject({ type: z.literal('signal'), peerId: PeerId, data: SignalDataSchema }),
  /** To the sender: a WHEP client's SDP offer; answer with `whep.answer` (non-trickle, complete candidates). */
  z.strictObject({ type: z.literal('whep.offer'), peerId: PeerId, sdp: Sdp }),
  /** To viewers: a sender is sharing (a join follows automatically). */
  z.strictObject({ type: z.literal('sender.ready') }),
  /** To viewers: the sender went away; wait, a new one is joined automatically. */
  z.strictObject({ type: z.literal('sender.left') }),
  /** To the sender: how many viewers and WHEP sessions are connected. */
  z.strictObject({ type: z.literal('share.viewers'), count: z.number().int().min(0) }),
  /** A refused request; the socket closes after it when `fatal`. */
  z.strictObject({ type: z.literal('share.error'), code: ErrorCodeSchema, message: z.string(), fatal: z.boolean() }),
]);
export type ShareServerMessage = z.infer<typeof ShareServerMessageSchema>;

/** RTCPeerConnection.connectionState, as the page that offers the stream reports it. */
export const PeerConnectionStateSchema = z.enum(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed']);
export type PeerConnectionState = z.infer<typeof PeerConnectionStateSchema>;

/** Sender or viewer → engine. A viewer's `peerId` is ignored (the engine knows who it is). */
export const ShareClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('signal'), peerId: PeerId.optional(), data: SignalDataSchema }),
  z.strictObject({ type: z.literal('whep.answer'), peerId: PeerId, sdp: Sdp }),
  z.strictObject({ type: z.literal('whep.error'), peerId: PeerId, message: z.string().max(1024) }),
  /** A pooled renderer: avatar loaded and a fresh engine session open, so it may be leased to a talker. */
  z.strictObject({ type: z.literal('renderer.ready') }),
  /** Every page's first message on a new socket: a socket that says nothing in time is closed (CLOSE_IDLE). */
  z.strictObject({ type: z.literal('hello') }),
  /**
   * The sender (about a viewer or WHEP peer) or a pooled renderer (about its talker): that peer's
   * connection state changed. A slot is held while `connected`; `failed`/`closed` free it at once.
   */
  z.strictObject({ type: z.literal('peer.state'), peerId: PeerId, state: PeerConnectionStateSchema }),
]);
export type ShareClientMessage = z.infer<typeof ShareClientMessageSchema>;

const CaptionText = z.string().max(8000);
const CaptionId = z.string().min(1).max(128);

/**
 * Pooled renderer → its talker, on the peer's data channel: the remote conversation as text, for
 * captions (`&captions=1` on the viewer page) and for tests that check what the engine heard.
 */
export const RemoteCaptionSchema = z.discriminatedUnion('type', [
  /** A fresh engine session serves this talker (a new lease never shares history with an old one). */
  z.strictObject({ type: z.literal('remote.session'), sessionId: CaptionId }),
  /** What the engine heard the talker say. */
  z.strictObject({ type: z.literal('caption.heard'), turnId: CaptionId, text: CaptionText, final: z.boolean() }),
  /** The avatar's reply so far. */
  z.strictObject({ type: z.literal('caption.reply'), turnId: CaptionId, text: CaptionText }),
  /** The reply was generated (its audio may still be playing); `heardText` is what was heard if it was cut. */
  z.strictObject({ type: z.literal('caption.ended'), turnId: CaptionId, status: TurnStatusSchema, heardText: CaptionText }),
  /** The avatar's voice was cut: `barge-in` when the talker spoke over it (may follow `caption.ended`). */
  z.strictObject({ type: z.literal('caption.stopped'), turnId: CaptionId, reason: StopReasonSchema }),
  /** What the pooled renderer's perception loop makes of the talker's camera (sent when it changes; `watching` false: not looking). */
  z.strictObject({ type: z.literal('remote.vision'), watching: z.boolean(), present: z.boolean(), faces: z.number().int().nonnegative().max(100) }),
]);
export type RemoteCaption = z.infer<typeof RemoteCaptionSchema>;

/**
 * Talker → its pooled renderer, on the peer's data channel. `talker.camera`: the talker turned its
 * camera on or off (opt-in, off by default); while on, the video track the talker's page sends on
 * the same peer connection carries it, and the renderer's perception loop watches it (frames stay
 * in the pages, nothing is stored).
 */
export const TalkerMessageSchema = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('talker.camera'), on: z.boolean() })]);
export type TalkerMessage = z.infer<typeof TalkerMessageSchema>;

/** Close code for "the viewer cap is reached": the page retries later (RFC 6455 1013, Try Again Later). */
export const CLOSE_BUSY = 1013;
/** Close code for "a newer sender took over" (a reloaded app page). */
export const CLOSE_REPLACED = 4001;
/** Close code for a socket that said nothing in time (`/signal`), or sent nothing and kept no session open (`/ws`). */
export const CLOSE_IDLE = 4002;
/** Close code for a viewer or talker whose WebRTC connection did not connect in time, or failed: the page rejoins. */
export const CLOSE_NOT_CONNECTED = 4003;

/** Output presets of the share: frame size, rate and the encoder's bitrate ceiling. */
export const SHARE_PRESETS = {
  '720p30': { width: 1280, height: 720, fps: 30, maxBitrateKbps: 4000 },
  '1080p60': { width: 1920, height: 1080, fps: 60, maxBitrateKbps: 9000 },
} as const;
export type SharePresetName = keyof typeof SHARE_PRESETS;
export const SharePresetNameSchema = z.enum(Object.keys(SHARE_PRESETS) as [SharePresetName, ...SharePresetName[]]);

/** Parses the `--ice-servers` JSON (serve flag / setting); a typed error names what is wrong. */
export function parseIceServersJson(json: string): IceServer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new AppError(ErrorCode.InvalidMessage, `ICE servers must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}]: ${(error as Error).message}`, false, {
      cause: error,
    });
  }
  const parsed = IceServersSchema.safeParse(raw);
  if (!parsed.success) throw new AppError(ErrorCode.InvalidMessage, `ICE servers are not valid: ${z.prettifyError(parsed.error)}`, false);
  return parsed.data;
}
