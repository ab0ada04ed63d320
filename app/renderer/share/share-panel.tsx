import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { SHARE_PRESETS, SharePresetNameSchema, type SharePresetName } from '../../shared/share.contract';
import type { Runtime } from '../state/runtime';
import { desktopShareEndpoint } from '../transport/electron-engine-client';
import { pageToken } from '../transport/page-token';
import { packingFromParam, type SharePacking } from './alpha-pack';
import { CHROMA_KEY_COLOR } from './share-compositor';
import { ShareSender, type ShareContentHint, type ShareSettings, type ShareStatus } from './share-sender';

/** The avatar's WebGL canvas inside the R3F wrapper. */
function avatarCanvas(): HTMLCanvasElement | null {
  return document.querySelector<HTMLCanvasElement>('.avatar-canvas canvas');
}

/**
 * Settings from the page address: `share=1` starts at launch (OBS setups and tests need no click),
 * `sharePreset=720p30|1080p60`, `shareHint=detail|motion`, `background=chroma` (#00FF00 behind the
 * avatar), `pack=alpha` (colour and alpha side by side, for a transparent viewer), `shareStamp=1`
 * (measurement stamps for the `webrtc` bench), `shareCanvas=cpu|gpu` (where the frame is composed;
 * the `webrtc` bench compares them), `shareAudioHold=0` (send the voice without holding it for the
 * video's capture delay; the bench's comparison), `shareAudioLeadMs=N` (the audio path's lead taken
 * off that hold, 0–500 ms; capture-delay.ts), `sharePacing=free` (the scene renders at its own
 * rate instead of only the frames the capture can take; the bench's comparison).
 */
/** `shareAudioLeadMs`: whole milliseconds 0–500, else the default. */
function leadFromParam(value: string | null): number | undefined {
  if (value === null || !/^\d{1,3}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms <= 500 ? ms : undefined;
}

function settingsFromUrl(params: URLSearchParams): ShareSettings & { autostart: boolean } {
  const preset = SharePresetNameSchema.safeParse(params.get('sharePreset'));
  const background = params.get('background') === 'chroma' ? CHROMA_KEY_COLOR : getComputedStyle(document.body).backgroundColor || '#000';
  return {
    autostart: params.get('share') === '1',
    preset: preset.success ? preset.data : '720p30',
    contentHint: params.get('shareHint') === 'motion' ? 'motion' : 'detail',
    background,
    stamp: params.get('shareStamp') === '1',
    packing: packingFromParam(params.get('pack')),
    compositorCanvas: params.get('shareCanvas') === 'gpu' ? 'gpu' : params.get('shareCanvas') === 'cpu' ? 'cpu' : undefined,
    holdAudio: params.get('shareAudioHold') !== '0',
    audioLeadMs: leadFromParam(params.get('shareAudioLeadMs')),
    pacing: params.get('sharePacing') === 'free' ? 'free' : 'capture',
  };
}

/** The share server a sender signals to: its http origin and the token that may share. */
interface ShareServer {
  token: string;
  origin: string;
}

interface ShareServerState {
  server: ShareServer | null;
  /** In Electron: ask the desktop app for its share server, which starts on this first request; null under `serve`. */
  ask: (() => void) | null;
  asking: boolean;
  failed: boolean;
}

/**
 * Where the share signals: under `serve`, the host that served this page with the page's token; in
 * Electron, the desktop app's share server, which the app starts only when asked (through the
 * preload), so the panel asks when the user shares (or at launch with `share=1`), never before.
 */
function useShareServer(): ShareServerState {
  const [bridge] = useState(() => window.avatarBridge ?? null);
  const [server, setServer] = useState<ShareServer | null>(() => {
    const token = pageToken();
    return !bridge && token ? { token, origin: window.location.origin } : null;
  });
  const [asking, setAsking] = useState(false);
  const [failed, setFailed] = useState(false);
  const ask = useCallback(() => {
    if (!bridge) return;
    setAsking(true);
    setFailed(false);
    void desktopShareEndpoint(bridge).then((endpoint) => {
      setAsking(false);
      if (endpoint) setServer({ token: endpoint.token, origin: new URL(endpoint.viewUrl).origin });
      else setFailed(true);
    });
  }, [bridge]);
  return { server, ask: bridge ? ask : null, asking, failed };
}

/** The panel's one line: the share server starting or failing to, else the share's own state. */
function summaryOf(status: ShareStatus | null, asking: boolean, failed: boolean): string {
  if (!status) return asking ? 'Starting the share server…' : failed ? 'The share server could not start; try again.' : '';
  if (!status.active) return '';
  if (status.error) return status.error;
  if (!status.signaling) return 'Connecting…';
  const rate = status.connectedPeers > 0 ? ` · ${status.fps} fps · ${status.bitrateKbps} kbps` : '';
  return `${status.viewers} viewer${status.viewers === 1 ? '' : 's'}${rate}`;
}

/** Share control: start/stop the WebRTC share of the avatar, preset, viewers and the viewer address. */
export function SharePanel({ runtime }: { runtime: Runtime }) {
  const [params] = useState(() => new URLSearchParams(window.location.search));
  const { server, ask, asking, failed } = useShareServer();
  const sender = useMemo(() => (server ? new ShareSender(runtime.player, server.token, avatarCanvas, server.origin) : null), [server, runtime.player]);
  const [initial] = useState(() => settingsFromUrl(params));
  const [preset, setPreset] = useState<SharePresetName>(initial.preset);
  const [hint, setHint] = useState<ShareContentHint>(initial.contentHint);
  const [packing, setPacking] = useState<SharePacking>(initial.packing ?? 'none');
  // What to share with as soon as a sender exists: `share=1` at launch, or the press that asked for the server.
  const [startWith, setStartWith] = useState<ShareSettings | null>(initial.autostart ? initial : null);

  useEffect(() => {
    if (initial.autostart) ask?.();
  }, [initial, ask]);

  useEffect(() => {
    if (!sender) return;
    if (startWith) sender.start(startWith);
    return () => sender.stop();
  }, [sender, startWith]);

  const status = useSyncExternalStore(sender?.subscribe ?? (() => () => undefined), sender?.getSnapshot ?? (() => null));
  if (!sender && !ask) {
    return (
      <div className="mic-controls share-panel" role="group" aria-label="Share">
        <span className="mic-hint">Sharing needs a share server (the desktop app's, or npm run serve).</span>
      </div>
    );
  }

  const active = status?.active ?? false;
  const toggle = (): void => {
    const settings = { ...initial, preset, contentHint: hint, packing };
    if (!sender) {
      setStartWith(settings);
      ask?.();
    } else if (active) sender.stop();
    else sender.start(settings);
  };
  const summary = summaryOf(status, asking, failed);

  return (
    <div className={`mic-controls share-panel${active ? ' mic-on' : ''}`} role="group" aria-label="Share">
      <button type="button" className="mic-toggle" aria-pressed={active} disabled={asking} onClick={toggle}>
        {active ? 'Stop sharing' : 'Share'}
      </button>
      <label className="mic-option">
        Quality
        <select value={preset} disabled={active} onChange={(event) => setPreset(event.target.value as SharePresetName)}>
          {Object.keys(SHARE_PRESETS).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label className="mic-option">
        Keep
        <select value={hint} disabled={active} onChange={(event) => setHint(event.target.value as ShareContentHint)}>
          <option value="detail">sharpness</option>
          <option value="motion">smooth motion</option>
        </select>
      </label>
      <label className="mic-option" title="Alpha packed: colour and transparency side by side (twice as wide); the viewer page shows it transparent">
        Alpha
        <select value={packing} disabled={active} onChange={(event) => setPacking(packingFromParam(event.target.value))}>
          <option value="none">none</option>
          <option value="alpha">packed</option>
        </select>
      </label>
      <span className="mic-hint" aria-live="polite">
        {summary}
      </span>
      {active && status?.viewUrl ? (
        <a className="mic-hint share-view-link" href={status.viewUrl} target="_blank" rel="noreferrer">
          Viewer link
        </a>
      ) : null}
      {active && status?.talkUrl ? (
        <a className="mic-hint share-view-link" href={status.talkUrl} target="_blank" rel="noreferrer" title="Another browser talks to the avatar (microphone)">
          Talk link
        </a>
      ) : null}
    </div>
  );
}
