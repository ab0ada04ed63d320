import type { TurnStatus } from '../../shared/messages.contract';
import { RemoteCaptionSchema, type RemoteCaption, type TalkerMessage } from '../../shared/share.contract';
import { describeMicError } from '../audio/mic-capture';
import { signalUrl } from '../share/signal-socket';
import { ShareViewer } from '../view/share-viewer';

/** The remote conversation as the talker's page sees it (`window.avatarTalkStatus`, for tests). */
export interface TalkStatus {
  microphone: 'asking' | 'on' | 'failed';
  /** The engine session serving this talk (a new one for every lease). */
  sessionId: string | null;
  /** What the avatar heard, final transcripts in order. */
  heard: string[];
  /** The avatar's reply in progress or last finished. */
  reply: string;
  /** Finished turns: how each ended. */
  turns: TurnStatus[];
  /** Times the talker cut the avatar's voice by speaking over it. */
  bargeIns: number;
  /** The talker's camera (opt-in: off until the talker turns it on). */
  camera: 'off' | 'on' | 'failed';
  /** What the avatar's perception loop makes of the camera (`remote.vision`). */
  seen: { watching: boolean; present: boolean; faces: number };
  error: string | null;
}

declare global {
  interface Window {
    avatarTalkStatus?: Readonly<TalkStatus>;
  }
}

/** The talker's microphone, processed for a conversation over speakers (the avatar's voice must not come back). */
const TALK_AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 };

function captionBox(): HTMLDivElement {
  const box = document.createElement('div');
  box.setAttribute('role', 'log');
  box.setAttribute('aria-live', 'polite');
  box.style.cssText =
    'position:fixed;left:5%;right:5%;bottom:4%;padding:.4em .7em;font:18px/1.35 system-ui,sans-serif;color:#fff;' +
    'background:rgba(0,0,0,.55);border-radius:6px;white-space:pre-wrap;pointer-events:none';
  box.hidden = true;
  document.body.append(box);
  return box;
}

/**
 * `/view?token=<talk token>&talk=1[&captions=1]`: talk to the avatar from another browser. Asks for
 * the microphone, joins as a talker (the engine leases a pooled avatar renderer, or answers busy)
 * and sends the microphone on the same peer connection that brings the avatar's video and voice.
 * Captions of the conversation arrive on the data channel and show with `captions=1`. `token` is
 * the page's talk token (page-token.ts).
 */
export async function startRemoteTalk(params: URLSearchParams, token: string, video: HTMLVideoElement): Promise<void> {
  let status: TalkStatus = {
    microphone: 'asking',
    sessionId: null,
    heard: [],
    reply: '',
    turns: [],
    bargeIns: 0,
    camera: 'off',
    seen: { watching: false, present: false, faces: 0 },
    error: null,
  };
  // Errors (busy, no microphone) always show: this page has no other UI. The conversation only with captions=1.
  const captions = params.get('captions') === '1';
  const box = captionBox();
  const update = (patch: Partial<TalkStatus>): void => {
    status = { ...status, ...patch };
    window.avatarTalkStatus = status;
    const lastHeard = status.heard.at(-1);
    const lines = captions ? [lastHeard ? `You: ${lastHeard}` : '', status.reply ? `Avatar: ${status.reply}` : ''] : [];
    box.textContent = [status.error, ...lines].filter(Boolean).join('\n');
    box.hidden = box.textContent === '';
  };
  update({});

  let microphone: MediaStream | undefined;
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('Microphone capture needs a secure page (https or localhost).', 'SecurityError');
    microphone = await navigator.mediaDevices.getUserMedia({ audio: TALK_AUDIO });
    update({ microphone: 'on' });
  } catch (error) {
    // Still watch and listen: the avatar just cannot hear this page.
    update({ microphone: 'failed', error: describeMicError(error) });
  }

  const onCaption = (caption: RemoteCaption): void => {
    switch (caption.type) {
      case 'remote.session':
        update({ sessionId: caption.sessionId, heard: [], reply: '', turns: [], bargeIns: 0 });
        return;
      case 'caption.heard':
        if (caption.final) update({ heard: [...status.heard, caption.text] });
        return;
      case 'caption.reply':
        update({ reply: caption.text });
        return;
      case 'caption.ended':
        update({ turns: [...status.turns, caption.status] });
        return;
      case 'caption.stopped':
        if (caption.reason === 'barge-in') update({ bargeIns: status.bargeIns + 1 });
        return;
      case 'remote.vision':
        update({ seen: { watching: caption.watching, present: caption.present, faces: caption.faces } });
        return;
    }
  };
  const camera = new TalkerCamera((state, error) => {
    update({ camera: state, ...(error ? { error } : {}) });
    viewer.send(JSON.stringify({ type: 'talker.camera', on: state === 'on' } satisfies TalkerMessage));
    void viewer.setVideoTrack(camera.track());
  });
  const micError = status.error;
  const viewer = new ShareViewer(signalUrl(window.location, 'talker', token), video, {
    microphone,
    video: () => camera.track(),
    // A new connection (a rejoin) hears the camera's state again.
    onConnect: () => viewer.send(JSON.stringify({ type: 'talker.camera', on: camera.on } satisfies TalkerMessage)),
    onError: (message) => update({ error: message ?? micError }),
    onData: (text) => {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        return;
      }
      const parsed = RemoteCaptionSchema.safeParse(raw);
      if (parsed.success) onCaption(parsed.data);
    },
  });
}

/**
 * The talker's camera toggle (a button, off by default: opt-in). On: the camera's video track
 * replaces the blank one the page sends on the peer connection; off: the camera is released and the
 * blank track goes back. The avatar's page analyses the frames and keeps none.
 */
class TalkerCamera {
  private readonly blank: MediaStreamTrack;
  private camera: MediaStreamTrack | null = null;
  private readonly button: HTMLButtonElement;
  on = false;

  constructor(private readonly changed: (state: 'off' | 'on' | 'failed', error: string | null) => void) {
    const canvas = document.createElement('canvas');
    canvas.width = 2;
    canvas.height = 2;
    // A track that sends no frames (frame rate 0 and never asked for one).
    this.blank = canvas.captureStream(0).getVideoTracks()[0]!;
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.style.cssText = 'position:fixed;top:12px;right:12px;padding:.4em .8em;font:15px system-ui,sans-serif;border-radius:6px;border:0;cursor:pointer';
    this.button.addEventListener('click', () => void this.toggle());
    this.render();
    document.body.append(this.button);
  }

  /** The video track to send now. */
  track(): MediaStreamTrack {
    return this.camera ?? this.blank;
  }

  private render(): void {
    this.button.textContent = this.on ? 'Camera on: the avatar sees you' : 'Camera off';
    this.button.setAttribute('aria-pressed', String(this.on));
    this.button.style.background = this.on ? '#c0392b' : '#444';
    this.button.style.color = '#fff';
  }

  private async toggle(): Promise<void> {
    if (this.on) {
      this.camera?.stop();
      this.camera = null;
      this.on = false;
      this.render();
      this.changed('off', null);
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      this.camera = stream.getVideoTracks()[0] ?? null;
      this.on = this.camera !== null;
      this.render();
      this.changed(this.on ? 'on' : 'failed', this.on ? null : 'The camera gave no video.');
    } catch (error) {
      this.changed('failed', `Camera: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
