import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type { CustomScheme } from 'electron';

/**
 * The `app://` protocol the window's page comes from instead of `file://`: a real origin
 * (`app://avatar`) for CSP `'self'`, permissions and the share server's Origin check, and only the
 * renderer build's own files behind it. Plain Node (the Electron glue passes requests in), so the
 * path rules are tested without Electron.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'avatar';
/** The origin of every page the app serves itself. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The window's page. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Registered before ready: standard (a real origin, relative URLs, dot segments resolved) and
 * secure (getUserMedia, AudioWorklet); fetch() for the page's own assets and V8 code cache.
 * No CSP bypass, no service workers, no CORS from other origins.
 */
export const APP_SCHEME_DEFINITION: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

/** The app page's policy, sent as a header on every `app://` response (the HTML's meta tag says the same). */
export const APP_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; worker-src 'self' blob:; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': APP_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.glb': 'model/gltf-binary',
  '.vrm': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type of a build file by its extension; unknown files are opaque bytes (with nosniff). */
export function mimeTypeOf(filePath: string): string {
  return MIME_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/** Where an `app://` request leads: a file inside the renderer build, or a refusal with its HTTP status. */
export type AppRequestTarget = { ok: true; filePath: string; mimeType: string } | { ok: false; status: 400 | 403 | 404; reason: string };

function refused(status: 400 | 403 | 404, reason: string): AppRequestTarget {
  return { ok: false, status, reason };
}

/**
 * Maps an `app://avatar/…` URL to a file inside `rootDir`. Query and fragment are ignored; `/` is
 * `index.html`. Refused: other schemes or hosts (404), credentials or undecodable escapes (400), and
 * any decoded segment that could leave the folder — `..`, `.`, backslashes, drive letters, NUL (403).
 */
export function resolveAppRequest(requestUrl: string, rootDir: string): AppRequestTarget {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return refused(400, 'Not a URL.');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host.toLowerCase() !== APP_HOST) return refused(404, 'Not an app page.');
  if (url.username || url.password) return refused(400, 'Credentials are not part of an app address.');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return refused(400, 'Malformed escape in the path.');
  }
  const segments = pathname.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) segments.push('index.html');
  if (segments.some((segment) => segment === '.' || segment === '..' || /[\\:\0]/.test(segment))) return refused(403, 'Outside the app.');
  const root = resolve(rootDir);
  const filePath = resolve(root, ...segments);
  const inside = relative(root, filePath);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return refused(403, 'Outside the app.');
  return { ok: true, filePath, mimeType: mimeTypeOf(filePath) };
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** The answer to one `app://` request: the file with its MIME type and the CSP header, or a plain-text refusal. */
export async function appProtocolResponse(requestUrl: string, rootDir: string, method = 'GET'): Promise<Response> {
  if (method !== 'GET' && method !== 'HEAD') return textResponse(405, 'Method not allowed.');
  const target = resolveAppRequest(requestUrl, rootDir);
  if (!target.ok) return textResponse(target.status, target.reason);
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = new Uint8Array(await readFile(target.filePath));
  } catch {
    return textResponse(404, 'Not found.');
  }
  return new Response(method === 'HEAD' ? null : body, {
    status: 200,
    headers: { ...RESPONSE_HEADERS, 'Content-Type': target.mimeType, 'Content-Length': String(body.byteLength) },
  });
}
