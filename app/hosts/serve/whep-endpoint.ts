import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { decodePathSegment } from './request-target';
import type { ShareHub } from '../../engine/share/share-hub';

/** Largest accepted SDP offer (a browser's offer is a few KB). */
const MAX_OFFER_BYTES = 64 * 1024;

/** True for `/whep` and `/whep/<id>`. */
export function isWhepPath(pathname: string): boolean {
  return pathname === '/whep' || pathname.startsWith('/whep/');
}

function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1]! : null;
}

class BodyTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super(ErrorCode.InvalidMessage, `The SDP offer is larger than ${maxBytes} bytes.`, false);
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * 413 for an oversized body: the answer goes out first, the rest of the body is drained for a moment
 * (so the client reads the status instead of a reset) and the connection then closes.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, message: string): void {
  res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(message);
  req.resume();
  setTimeout(() => req.destroy(), 1000).unref();
}

function statusOf(error: AppError): number {
  switch (error.code) {
    case ErrorCode.InvalidMessage:
      return 400;
    case ErrorCode.PoolExhausted:
    case ErrorCode.Cancelled:
      return 503;
    default:
      return 504;
  }
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(text);
}

/**
 * WHEP (draft-ietf-wish-whep) without trickle: `POST /whep` with a bearer token and an SDP offer
 * answers `201` with the complete SDP answer and `Location: /whep/<id>`; `DELETE /whep/<id>` ends
 * the session. A `?conversation=<id>` on the POST stays on the Location, so a load balancer that
 * keeps a conversation on one engine sends the DELETE there too. The sharing renderer answers the offer through the signaling socket, so the media
 * flows peer to peer from the renderer and the engine never touches it.
 */
export async function handleWhep(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  hub: ShareHub,
  acceptsToken: (token: string | null) => boolean,
  conversationId: string | null = null,
): Promise<void> {
  if (!acceptsToken(bearerToken(req))) {
    plain(res, 401, 'A valid bearer token is required (Authorization: Bearer <token>).', { 'WWW-Authenticate': 'Bearer' });
    return;
  }
  if (pathname === '/whep') {
    if (req.method !== 'POST') return plain(res, 405, 'Use POST with an SDP offer.', { Allow: 'POST' });
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/sdp')) {
      return plain(res, 415, 'The offer must be sent as Content-Type: application/sdp.');
    }
    try {
      const offer = await readBody(req, MAX_OFFER_BYTES);
      if (!offer.startsWith('v=0')) throw new AppError(ErrorCode.InvalidMessage, 'The body is not an SDP offer.', false);
      const answer = await hub.whepOffer(offer);
      res
        .writeHead(201, { 'Content-Type': 'application/sdp', Location: `/whep/${answer.peerId}${conversationId ? `?conversation=${encodeURIComponent(conversationId)}` : ''}`, 'Cache-Control': 'no-store' })
        .end(answer.sdp);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refuseTooLarge(req, res, error.message);
      const appError = AppError.from(error);
      plain(res, statusOf(appError), appError.message, statusOf(appError) === 503 ? { 'Retry-After': '2' } : {});
    }
    return;
  }
  const peerId = decodePathSegment(pathname.slice('/whep/'.length));
  if (req.method === 'DELETE') {
    if (peerId !== null && hub.whepEnd(peerId)) plain(res, 200, 'Session ended.');
    else plain(res, 404, 'No such WHEP session.');
    return;
  }
  // Trickle and ICE restarts (PATCH) are not offered: the answer already carries every candidate.
  // A client asking is still alive, which keeps a session the sender does not report on.
  if (peerId !== null) hub.whepTouch(peerId);
  plain(res, 405, 'Only DELETE ends a WHEP session; trickle ICE (PATCH) is not supported.', { Allow: 'DELETE' });
}
