import { startRemoteTalk } from '../remote/remote-talker';
import { signalUrl } from '../share/signal-socket';
import { ShareViewer } from './share-viewer';

/**
 * `/view?token=…[&background=transparent]`: the shared avatar full-window with no UI (an OBS
 * Browser Source). The token may be the watch-only view token. With the talk token and `&talk=1`
 * the page talks to the avatar instead (remote/remote-talker.ts).
 */
const params = new URLSearchParams(window.location.search);
if (params.get('background') === 'transparent') document.documentElement.classList.add('transparent');
const video = document.getElementById('avatar');
if (!(video instanceof HTMLVideoElement)) throw new Error('view.html has no #avatar video element');
// A click unmutes when the browser refused autoplay with sound.
window.addEventListener('pointerdown', () => {
  video.muted = false;
});
if (params.get('talk') === '1') void startRemoteTalk(params, video);
else new ShareViewer(signalUrl(window.location, 'viewer', params.get('token') ?? ''), video);
