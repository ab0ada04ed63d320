import { signalUrl } from '../share/signal-socket';
import { ShareViewer } from './share-viewer';

/**
 * `/view?token=…[&background=transparent]`: the shared avatar full-window with no UI (an OBS
 * Browser Source). The token may be the watch-only view token.
 */
const params = new URLSearchParams(window.location.search);
if (params.get('background') === 'transparent') document.documentElement.classList.add('transparent');
const video = document.getElementById('avatar');
if (!(video instanceof HTMLVideoElement)) throw new Error('view.html has no #avatar video element');
// A click unmutes when the browser refused autoplay with sound.
window.addEventListener('pointerdown', () => {
  video.muted = false;
});
new ShareViewer(signalUrl(window.location, 'viewer', params.get('token') ?? ''), video);
