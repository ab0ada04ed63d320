import type { WebSocket, WebSocketServer } from 'ws';
import { CLOSE_IDLE } from '../../shared/share.contract';

/** How long the host's WebSockets live and how many it keeps; every field has a default. */
export interface SocketLimits {
  /** Every socket is pinged this often; one that has not answered the previous ping is terminated. */
  heartbeatIntervalMs?: number;
  /** `/ws`: closed after this long with no message and no session open. */
  engineIdleTimeoutMs?: number;
  /** `/signal`: closed when it has said nothing this long after connecting (pages say `hello` at once). */
  signalIdleTimeoutMs?: number;
  /** `/ws` sockets at once; more are refused at the upgrade with 503. */
  maxEngineConnections?: number;
  /** `/signal` sockets at once (senders, viewers, talkers, pooled renderers); more are refused with 503. */
  maxSignalConnections?: number;
}

export const DEFAULT_SOCKET_LIMITS: Required<SocketLimits> = {
  heartbeatIntervalMs: 15_000,
  engineIdleTimeoutMs: 60_000,
  signalIdleTimeoutMs: 30_000,
  maxEngineConnections: 64,
  maxSignalConnections: 64,
};

function inWords(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/**
 * Pings every socket of `server` each `intervalMs` and terminates one that did not answer the
 * previous ping (a peer that vanished without a close: sleep, network loss, a killed tab); its
 * `close` handlers then run as for any close. Returns the stop function.
 */
export function startHeartbeat(server: WebSocketServer, intervalMs: number): () => void {
  const watched = new WeakSet<WebSocket>();
  const awaitingPong = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of server.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (!watched.has(ws)) {
        watched.add(ws);
        ws.on('pong', () => awaitingPong.delete(ws));
      } else if (awaitingPong.has(ws)) {
        ws.terminate();
        continue;
      }
      awaitingPong.add(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Closes `ws` (CLOSE_IDLE) once it has been quiet for `timeoutMs` — no `activity()` — and is not
 * `busy()` then (a busy socket gets another `timeoutMs`). Returns the activity callback.
 */
export function closeWhenIdle(ws: WebSocket, timeoutMs: number, busy: () => boolean, what: string): () => void {
  let lastActivityMs = performance.now();
  let timer: ReturnType<typeof setTimeout>;
  const check = (): void => {
    const remainingMs = lastActivityMs + timeoutMs - performance.now();
    if (remainingMs > 0) {
      timer = setTimeout(check, remainingMs);
    } else if (busy()) {
      lastActivityMs = performance.now();
      timer = setTimeout(check, timeoutMs);
    } else {
      ws.close(CLOSE_IDLE, `idle: ${what} for ${inWords(timeoutMs)}`);
    }
  };
  timer = setTimeout(check, timeoutMs);
  ws.once('close', () => clearTimeout(timer));
  return () => {
    lastActivityMs = performance.now();
  };
}

/** Closes `ws` (CLOSE_IDLE) unless it says something within `timeoutMs` of connecting; returns the callback for its first message. */
export function closeUnlessItSpeaks(ws: WebSocket, timeoutMs: number): () => void {
  const timer = setTimeout(() => ws.close(CLOSE_IDLE, `idle: said nothing within ${inWords(timeoutMs)} of connecting`), timeoutMs);
  ws.once('close', () => clearTimeout(timer));
  return () => clearTimeout(timer);
}
