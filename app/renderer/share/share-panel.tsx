import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { SHARE_PRESETS, SharePresetNameSchema, type SharePresetName } from '../../shared/share.contract';
import type { Runtime } from '../state/runtime';
import { desktopShareEndpoint } from '../transport/electron-engine-client';
import { pageToken } from '../transport/page-token';
import { packingFromParam, type SharePacking } from './alpha-pack';
import { CHROMA_KEY_COLOR } from './share-compositor';
import { ShareSender, type ShareContentHint, type ShareSettings } from './share-sender';

/** The avatar's WebGL canvas inside the R3F wrapper. */
function avatarCanvas(): HTMLCanvasElement | null {
  return document.querySelector<HTMLCanvasElement>('.avatar-canvas canvas');
}

/**
 * Settings from the page address: `share=1` starts at launch (OBS setups and tests need no click),
 * `sharePreset=720p30|1080p60`, `shareHint=detail|motion`, `background=chroma` (#00FF00 behind the
 * avatar), `pack=alpha` (colour and alpha side by side, for a transparent viewer), `shareStamp=1`
 * (measurement stamps for the `webrtc` bench).
 */
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
  };
}

/**
 * Where the share signals: in Electron the desktop app's own share server (asked through the
 * preload), else the `serve` host that served this page with the page's token.
 */
function useShareServer(): { token: string; origin: string } | null {
  const [server, setServer] = useState(() => {
    const token = pageToken();
    return !window.avatarBridge && token ? { token, origin: window.location.origin } : null;
  });
  useEffect(() => {
    const bridge = window.avatarBridge;
    if (!bridge) return;
    let live = true;
    void desktopShareEndpoint(bridge).then((endpoint) => {
      if (live && endpoint) setServer({ token: endpoint.token, origin: new URL(endpoint.viewUrl).origin });
    });
    return () => {
      live = false;
    };
  }, []);
  return server;
}

/** Share control: start/stop the WebRTC share of the avatar, preset, viewers and the viewer address. */
export function SharePanel({ runtime }: { runtime: Runtime }) {
  const [params] = useState(() => new URLSearchParams(window.location.search));
  const server = useShareServer();
  const sender = useMemo(() => (server ? new ShareSender(runtime.player, server.token, avatarCanvas, server.origin) : null), [server, runtime.player]);
  const [initial] = useState(() => settingsFromUrl(params));
  const [preset, setPreset] = useState<SharePresetName>(initial.preset);
  const [hint, setHint] = useState<ShareContentHint>(initial.contentHint);
  const [packing, setPacking] = useState<SharePacking>(initial.packing ?? 'none');

  useEffect(() => {
    if (!sender) return;
    if (initial.autostart) sender.start(initial);
    return () => sender.stop();
  }, [sender, initial]);

  const status = useSyncExternalStore(sender?.subscribe ?? (() => () => undefined), sender?.getSnapshot ?? (() => null));
  if (!sender || !status) {
    return (
      <div className="mic-controls share-panel" role="group" aria-label="Share">
        <span className="mic-hint">Sharing needs a share server (the desktop app's, or npm run serve).</span>
      </div>
    );
  }

  const toggle = (): void => {
    if (status.active) sender.stop();
    else sender.start({ ...initial, preset, contentHint: hint, packing });
  };
  const summary = !status.active
    ? ''
    : status.error
      ? status.error
      : !status.signaling
        ? 'Connecting…'
        : `${status.viewers} viewer${status.viewers === 1 ? '' : 's'}${status.connectedPeers > 0 ? ` · ${status.fps} fps · ${status.bitrateKbps} kbps` : ''}`;

  return (
    <div className={`mic-controls share-panel${status.active ? ' mic-on' : ''}`} role="group" aria-label="Share">
      <button type="button" className="mic-toggle" aria-pressed={status.active} onClick={toggle}>
        {status.active ? 'Stop sharing' : 'Share'}
      </button>
      <label className="mic-option">
        Quality
        <select value={preset} disabled={status.active} onChange={(event) => setPreset(event.target.value as SharePresetName)}>
          {Object.keys(SHARE_PRESETS).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label className="mic-option">
        Keep
        <select value={hint} disabled={status.active} onChange={(event) => setHint(event.target.value as ShareContentHint)}>
          <option value="detail">sharpness</option>
          <option value="motion">smooth motion</option>
        </select>
      </label>
      <label className="mic-option" title="Alpha packed: colour and transparency side by side (twice as wide); the viewer page shows it transparent">
        Alpha
        <select value={packing} disabled={status.active} onChange={(event) => setPacking(packingFromParam(event.target.value))}>
          <option value="none">none</option>
          <option value="alpha">packed</option>
        </select>
      </label>
      <span className="mic-hint" aria-live="polite">
        {summary}
      </span>
      {status.active && status.viewUrl ? (
        <a className="mic-hint share-view-link" href={status.viewUrl} target="_blank" rel="noreferrer">
          Viewer link
        </a>
      ) : null}
      {status.active && status.talkUrl ? (
        <a className="mic-hint share-view-link" href={status.talkUrl} target="_blank" rel="noreferrer" title="Another browser talks to the avatar (microphone)">
          Talk link
        </a>
      ) : null}
    </div>
  );
}
