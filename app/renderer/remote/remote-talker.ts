import type { TurnStatus } from '../../shared/messages.contract';
import { RemoteCaptionSchema, type RemoteCaption } from '../../shared/share.contract';
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
  let status: TalkStatus = { microphone: 'asking', sessionId: null, heard: [], reply: '', turns: [], bargeIns: 0, error: null };
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
    }
  };
  const micError = status.error;
  new ShareViewer(signalUrl(window.location, 'talker', token), video, {
    microphone,
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
