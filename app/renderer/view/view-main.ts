import { startRemoteTalk } from '../remote/remote-talker';
import { signalUrl } from '../share/signal-socket';
import { pageConversationId } from '../transport/page-conversation';
import { pageToken } from '../transport/page-token';
import { AlphaUnpacker, unpackModeFromParam } from './alpha-unpack';
import { ShareViewer } from './share-viewer';

/**
 * `/view?token=…[&background=transparent][&unpack=alpha|none]`: the shared avatar full-window with
 * no UI (an OBS Browser Source). The token may be the watch-only view token. An alpha-packed share
 * (`&pack=alpha` on the sender) is shown on a transparent background (alpha-unpack.ts). With the
 * talk token and `&talk=1` the page talks to the avatar instead (remote/remote-talker.ts).
 */
// First of all: the token leaves the address (page-token.ts).
const token = pageToken();
const params = new URLSearchParams(window.location.search);
if (params.get('background') === 'transparent') document.documentElement.classList.add('transparent');
const video = document.getElementById('avatar');
if (!(video instanceof HTMLVideoElement)) throw new Error('view.html has no #avatar video element');
// A click unmutes when the browser refused autoplay with sound.
window.addEventListener('pointerdown', () => {
  video.muted = false;
});
const unpack = unpackModeFromParam(params.get('unpack'));
const canvas = document.getElementById('unpacked');
if (unpack !== 'none' && canvas instanceof HTMLCanvasElement) {
  try {
    new AlphaUnpacker(video, canvas, unpack);
  } catch (error) {
    // Without WebGL the page still plays the stream, packed halves side by side.
    console.error(error instanceof Error ? error.message : error);
  }
}
if (params.get('talk') === '1') void startRemoteTalk(params, token, video);
else new ShareViewer(signalUrl(window.location, 'viewer', token, pageConversationId()), video);
