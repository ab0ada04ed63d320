import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { overlayRequested } from '../shared/page-modes';
import { App } from './app';
import { OverlayApp } from './overlay/overlay-app';
import { RemoteApp } from './remote/remote-app';
import { createRuntime } from './state/runtime';
import { installTestHooks } from './state/test-hooks';
import { pageToken } from './transport/page-token';
import './styles.css';

// First of all: the token leaves the address (page-token.ts).
pageToken();
installTestHooks();
const runtime = createRuntime();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

/** `remote=1`: a pooled renderer that serves remote talkers (serve --renderer-pool); `overlay=1`: the avatar alone (desktop overlay). */
function Page() {
  if (new URLSearchParams(window.location.search).get('remote') === '1') return <RemoteApp runtime={runtime} />;
  if (overlayRequested(window.location.search)) return <OverlayApp runtime={runtime} />;
  return <App runtime={runtime} />;
}

createRoot(root).render(
  <StrictMode>
    <Page />
  </StrictMode>,
);
