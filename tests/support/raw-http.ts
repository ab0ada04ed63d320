import { connect } from 'node:net';

/** What came back for one raw request: the status (0 when the connection closed without one). */
export interface RawAnswer {
  status: number;
  head: string;
}

/** The header fields of an answer's head, by lowercased name. */
export function headerFields(head: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Sends `request` byte for byte over a fresh TCP connection (no client library normalises the
 * target or headers) and resolves with the status line's code once the server answers or closes.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : 0, head: received.split('\r\n\r\n')[0] ?? '' });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(request, () => undefined);
  });
}

/**
 * A request head with CRLFs and an empty line; `host` is the Host header (the server answers only
 * to its own, e.g. `127.0.0.1:<port>`; null leaves it out), `extra` headers verbatim.
 */
export function requestHead(method: string, target: string, extra: string[], host: string | null): string {
  return [`${method} ${target} HTTP/1.1`, ...(host === null ? [] : [`Host: ${host}`]), 'Connection: close', ...extra, '', ''].join('\r\n');
}

/** The headers of a WebSocket upgrade request. */
export const UPGRADE_HEADERS = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
