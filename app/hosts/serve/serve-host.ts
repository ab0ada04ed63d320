import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import { DEFAULT_MAX_VIEWERS, ShareRoleSchema, type IceSettings, type ShareRole, type ShareServerMessage } from '../../shared/share.contract';
import type { Engine } from '../../engine/engine-api';
import { newConversationId } from '../../engine/conversation/conversation-journal';
import { RemoteTalkHub } from '../../engine/share/remote-talk-hub';
import { ShareHub, type SignalConnection, type SignalSocket } from '../../engine/share/share-hub';
import { handleWhep, isWhepPath } from './whep-endpoint';
import { decodeClientFrame, encodeServerMessage } from '../../shared/wire-codec';
import { HostAllowlist } from './host-allowlist';
import { parseRequestTarget } from './request-target';
import { closeUnlessItSpeaks, closeWhenIdle, DEFAULT_SOCKET_LIMITS, startHeartbeat, type SocketLimits } from './socket-lifetimes';

/** Options of the headless host that serves the renderer build and the engine over WebSocket. */
export interface ServeOptions {
  /** null: share only, no engine WebSocket (the desktop app's window reaches its engine over IPC). */
  engine: Engine | null;
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 unless the user opts in to LAN access. */
  host?: string;
  /** Random per start unless given (engines behind one load balancer share one). */
  token?: string;
  /**
   * The page's address names its conversation (`/?conversation=<id>`; one without is redirected to
   * a new id): engines behind a load balancer share the data folder, and the id keeps a conversation
   * on one engine and lets another continue it.
   */
  nameConversations?: boolean;
  /**
   * `name[:port]` addresses of a load balancer in front (`--public-host`): requests that name them
   * in Host are answered, and pages served from them may open the WebSockets.
   */
  publicHosts?: string[];
  /** Largest accepted WebSocket message (mic frames are small; this bounds abuse). */
  maxMessageBytes?: number;
  /** Heartbeats, idle timeouts and connection caps of `/ws` and `/signal` (DEFAULT_SOCKET_LIMITS). */
  limits?: SocketLimits;
  /** The avatar share (signaling, viewer page, WHEP). */
  share?: ShareOptions;
  /**
   * Page origins not served here that may still open `/signal` (the desktop window's file:// page
   * sends "null"); the token decides as always.
   */
  signalOrigins?: string[];
}

/** Settings of the avatar share hosted next to the engine. */
export interface ShareOptions {
  /** STUN/TURN servers passed to both peers; none by default (loopback and LAN need none). */
  ice?: IceSettings;
  /** Viewer pages plus WHEP sessions at once. */
  maxViewers?: number;
  /** Token that may watch (viewer page, WHEP) but not drive the engine; random per start unless given. */
  viewToken?: string;
  /** Two-way remote conversation (opt-in): talkers with this token lease pooled renderers. */
  remoteTalk?: { talkToken?: string };
  /** A viewer, WHEP session or talker whose WebRTC connection is not up within this long loses its place (30 s). */
  peerConnectTimeoutMs?: number;
}

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  /** The watch-only token of `/view` and `/whep`. */
  viewToken: string;
  /** `http://…/view?token=<viewToken>`: the viewer page (OBS Browser Source). */
  viewUrl: string;
  /** The token that may talk to the avatar (`/view?token=…&talk=1`); null unless remote talk is on. */
  talkToken: string | null;
  talkUrl: string | null;
  /** Pooled renderers and talkers; null unless remote talk is on. */
  remoteTalk: RemoteTalkHub | null;
  server: Server;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "media-src 'self' blob: mediastream:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; worker-src 'self' blob:; " +
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};
const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`);

/** An answer written straight to a socket (upgrade refusals, CONNECT, unparsable requests), with the security headers. */
function rawAnswer(status: number, reason: string, extra: string[] = []): string {
  return [`HTTP/1.1 ${status} ${reason}`, ...SECURITY_HEADER_LINES, ...extra, 'Connection: close', 'Content-Length: 0', '', ''].join('\r\n');
}

const HOST_REFUSALS = {
  400: 'A Host header naming this server is required.',
  421: 'Misdirected request: this server answers only to its own address (127.0.0.1, localhost or [::1] with its port).',
} as const;

/** A plain-text answer with the security headers, unless an earlier step already answered. */
function plainAnswer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
}

function tokenMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Starts the `serve` host: static renderer at `/`, engine WebSocket at `/ws?token=…`. */
export async function startServeHost(options: ServeOptions): Promise<ServeHandle> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const viewToken = options.share?.viewToken ?? randomBytes(24).toString('base64url');
  const talkToken = options.share?.remoteTalk ? (options.share.remoteTalk.talkToken ?? randomBytes(24).toString('base64url')) : null;
  const hub = new ShareHub({
    ice: options.share?.ice ?? { iceServers: [], iceTransportPolicy: 'all' },
    maxViewers: options.share?.maxViewers ?? DEFAULT_MAX_VIEWERS,
    viewToken,
    talkToken: talkToken ?? undefined,
    peerConnectTimeoutMs: options.share?.peerConnectTimeoutMs,
  });
  const limits: Required<SocketLimits> = { ...DEFAULT_SOCKET_LIMITS, ...options.limits };
  const canWatch = (given: string | null): boolean => tokenMatches(token, given) || tokenMatches(viewToken, given);
  const talkHub = talkToken
    ? new RemoteTalkHub({ ice: options.share?.ice ?? { iceServers: [], iceTransportPolicy: 'all' }, connectTimeoutMs: options.share?.peerConnectTimeoutMs })
    : null;
  // Who may take which signaling role: pooled renderers run on the app token; only the talk token talks.
  const mayConnect = (role: ShareRole, given: string | null): boolean => {
    switch (role) {
      case 'sender':
        return tokenMatches(token, given);
      case 'viewer':
        return canWatch(given);
      case 'renderer':
        return talkHub !== null && tokenMatches(token, given);
      case 'talker':
        return talkToken !== null && tokenMatches(talkToken, given);
    }
  };
  const statics = sirv(options.rendererDir, { dev: false, etag: true });
  let listeningPort = 0;
  const publicHosts = options.publicHosts ?? [];
  const hosts = new HostAllowlist(() => listeningPort, !['127.0.0.1', 'localhost', '::1'].includes(host), publicHosts);
  const publicNames = publicHosts.map((entry) => entry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase());
  const allowedOrigin = (origin: string): boolean => isAllowedOrigin(origin, host) || publicNames.includes(originHostname(origin));

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Every answer carries them, whoever writes it (static files, WHEP, errors).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const verdict = hosts.check(req.url, req.headers.host);
    if (verdict !== 'allowed') {
      plainAnswer(res, verdict, HOST_REFUSALS[verdict]);
      return;
    }
    const url = parseRequestTarget(req.url);
    if (!url) {
      plainAnswer(res, 400, 'Bad request target: only paths (origin-form) are served here.');
      return;
    }
    if (isWhepPath(url.pathname)) {
      await handleWhep(req, res, url.pathname, hub, canWatch, url.searchParams.get('conversation'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plainAnswer(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    if (options.nameConversations && (url.pathname === '/' || url.pathname === '/index.html') && !url.searchParams.has('conversation')) {
      const named = new URLSearchParams(url.searchParams);
      named.set('conversation', newConversationId());
      plainAnswer(res, 302, 'This page continues a conversation named in its address.', { Location: `/?${named.toString()}`, 'Cache-Control': 'no-store' });
      return;
    }
    if (url.pathname === '/healthz') {
      // 200 only when the engine can answer a turn: 503 while it loads, and with the reason when a start failed.
      const health = options.engine?.health() ?? { state: 'ready' };
      if (health.state === 'ready') plainAnswer(res, 200, 'ok');
      else if (health.state === 'starting') plainAnswer(res, 503, 'starting', { 'Retry-After': '2' });
      else plainAnswer(res, 503, `degraded: ${health.reason}`);
      return;
    }
    statics(req, res, () => plainAnswer(res, 404, 'Not found'));
  };
  // Every request's failure is answered at this boundary; nothing a client sends reaches the process.
  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      const appError = AppError.from(error);
      plainAnswer(res, appError.code === ErrorCode.InvalidMessage ? 400 : 500, appError.message);
    });
  });
  // CONNECT (a proxy tunnel) is nothing this host offers; unanswered, Node would just drop the socket.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawAnswer(405, 'Method Not Allowed', ['Allow: GET, HEAD']));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end(rawAnswer(400, 'Bad Request'));
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? 1 << 20 });
  const signalWss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  const stopHeartbeats = [startHeartbeat(wss, limits.heartbeatIntervalMs), startHeartbeat(signalWss, limits.heartbeatIntervalMs)];

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: number, text: string): void => {
      socket.end(rawAnswer(status, text, status === 503 ? ['Retry-After: 5'] : []));
    };
    const verdict = hosts.check(req.url, req.headers.host);
    if (verdict !== 'allowed') return refuse(verdict, verdict === 400 ? 'Bad Request' : 'Misdirected Request');
    const url = parseRequestTarget(req.url);
    if (!url) return refuse(400, 'Bad Request');
    if (url.pathname === '/signal') {
      // The app token shares and watches; the view token only watches.
      const role = ShareRoleSchema.safeParse(url.searchParams.get('role'));
      if (!role.success) return refuse(400, 'Bad Request');
      const given = url.searchParams.get('token');
      if (!mayConnect(role.data, given)) return refuse(401, 'Unauthorized');
      const origin = req.headers.origin;
      if (origin && !allowedOrigin(origin) && !options.signalOrigins?.includes(origin)) return refuse(403, 'Forbidden');
      // The upgrade completes synchronously, so the count cannot race past the cap.
      if (signalWss.clients.size >= limits.maxSignalConnections) return refuse(503, 'Service Unavailable');
      signalWss.handleUpgrade(req, socket, head, (ws) =>
        attachSignal(ws, limits.signalIdleTimeoutMs, (signal) => {
          if (role.data === 'sender') return hub.attachSender(signal);
          if (role.data === 'viewer') return hub.attachViewer(signal);
          if (role.data === 'renderer') return talkHub!.attachRenderer(signal);
          return talkHub!.attachTalker(signal);
        }),
      );
      return;
    }
    if (url.pathname !== '/ws' || !options.engine) return refuse(404, 'Not Found');
    if (!tokenMatches(token, url.searchParams.get('token'))) return refuse(401, 'Unauthorized');
    const origin = req.headers.origin;
    if (origin && !allowedOrigin(origin)) return refuse(403, 'Forbidden');
    if (wss.clients.size >= limits.maxEngineConnections) return refuse(503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      upgrade(req, socket, head);
    } catch {
      if (socket.writable) socket.end(rawAnswer(400, 'Bad Request'));
      else socket.destroy();
    }
  });

  // The 101 answers carry the security headers too.
  for (const sockets of [wss, signalWss]) sockets.on('headers', (headers: string[]) => headers.push(...SECURITY_HEADER_LINES));

  wss.on('connection', (ws: WebSocket) => {
    const send = (message: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(encodeServerMessage(message));
    };
    const connection = options.engine!.connect(send);
    const active = closeWhenIdle(ws, limits.engineIdleTimeoutMs, () => connection.openSessions > 0, 'no message and no open session');
    ws.on('message', (data: RawData, isBinary: boolean) => {
      active();
      try {
        const bytes = toBytes(data);
        const message = decodeClientFrame(
          isBinary ? { kind: 'binary', bytes } : { kind: 'text', text: Buffer.from(bytes).toString('utf8') },
        );
        connection.handle(message);
      } catch (error) {
        const appError = AppError.from(error);
        send({ type: 'error', code: appError.code, message: appError.message, recoverable: appError.recoverable });
      }
    });
    ws.on('close', () => connection.close());
    ws.on('error', () => connection.close());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  listeningPort = port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const origin = `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    viewToken,
    viewUrl: `${origin}/view?token=${viewToken}`,
    talkToken,
    talkUrl: talkToken ? `${origin}/view?token=${talkToken}&talk=1` : null,
    remoteTalk: talkHub,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of stopHeartbeats) stop();
        hub.close();
        talkHub?.close();
        for (const client of signalWss.clients) client.terminate();
        signalWss.close();
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Joins a signaling socket to a hub (share or remote talk): JSON text frames both ways; one that says nothing in time is closed. */
function attachSignal(ws: WebSocket, idleTimeoutMs: number, connect: (socket: SignalSocket) => SignalConnection | null): void {
  const socket = {
    send: (message: ShareServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    },
    close: (code: number, reason: string): void => ws.close(code, reason),
  };
  const connection = connect(socket);
  if (!connection) return;
  const spoke = closeUnlessItSpeaks(ws, idleTimeoutMs);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    spoke();
    if (isBinary) socket.send({ type: 'share.error', code: ErrorCode.InvalidMessage, message: 'Signaling messages are JSON text.', fatal: false });
    else connection.handle(Buffer.from(toBytes(data)).toString('utf8'));
  });
  ws.on('close', () => connection.close());
  ws.on('error', () => connection.close());
}

/** The hostname of an Origin value, lowercased without brackets; '' when it is not a URL. */
function originHostname(origin: string): string {
  try {
    return new URL(origin).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
}

/** Same-host pages only: a page from another site must not drive the engine even with a token. */
function isAllowedOrigin(origin: string, host: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(origin).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1') return true;
  if (host === '127.0.0.1' || host === 'localhost') return false;
  // LAN opt-in: pages served from one of this machine's own addresses.
  const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
  return hostname === host || own.includes(hostname);
}
