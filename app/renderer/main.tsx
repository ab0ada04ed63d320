import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
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
createRoot(root).render(
  <StrictMode>
    {/* `remote=1`: a pooled renderer that serves remote talkers (serve --renderer-pool). */}
    {new URLSearchParams(window.location.search).get('remote') === '1' ? <RemoteApp runtime={runtime} /> : <App runtime={runtime} />}
  </StrictMode>,
);
