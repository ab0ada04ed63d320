import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONTENT_SECURITY_POLICY, APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME_DEFINITION, appProtocolResponse, resolveAppRequest } from '../../app/hosts/electron/app-protocol';

/** The app:// protocol: which requests reach which files of the renderer build, and what comes back. */

const ROOT = join(sep, 'opt', 'avatar', 'out', 'renderer');

function fileOf(url: string): string | null {
  const target = resolveAppRequest(url, ROOT);
  return target.ok ? target.filePath : null;
}

function statusOf(url: string): number | null {
  const target = resolveAppRequest(url, ROOT);
  return target.ok ? null : target.status;
}

describe('app:// request resolution', () => {
  it('is a privileged standard, secure scheme whose page origin is app://avatar', () => {
    expect(APP_SCHEME_DEFINITION).toEqual({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) });
    expect(APP_SCHEME_DEFINITION.privileges).not.toHaveProperty('bypassCSP');
    expect(APP_SCHEME_DEFINITION.privileges).not.toHaveProperty('corsEnabled');
    expect(APP_ORIGIN).toBe('app://avatar');
    expect(APP_ENTRY_URL).toBe('app://avatar/index.html');
  });

  it('maps app pages and assets to files in the build, with their MIME types', () => {
    expect(resolveAppRequest('app://avatar/index.html', ROOT)).toEqual({ ok: true, filePath: join(ROOT, 'index.html'), mimeType: 'text/html; charset=utf-8' });
    expect(resolveAppRequest('app://avatar/assets/index-Ab12.js', ROOT)).toMatchObject({ filePath: join(ROOT, 'assets', 'index-Ab12.js'), mimeType: 'text/javascript; charset=utf-8' });
    expect(resolveAppRequest('app://avatar/assets/index.css', ROOT)).toMatchObject({ mimeType: 'text/css; charset=utf-8' });
    expect(resolveAppRequest('app://avatar/assets/a.wasm', ROOT)).toMatchObject({ mimeType: 'application/wasm' });
    expect(resolveAppRequest('app://avatar/assets/model.onnx', ROOT)).toMatchObject({ mimeType: 'application/octet-stream' });
    expect(fileOf('app://avatar/')).toBe(join(ROOT, 'index.html'));
    expect(fileOf('app://avatar')).toBe(join(ROOT, 'index.html'));
    expect(fileOf('app://AVATAR/view.html')).toBe(join(ROOT, 'view.html'));
    expect(fileOf('app://avatar/assets/a%20b.js')).toBe(join(ROOT, 'assets', 'a b.js'));
  });

  it('ignores query strings and fragments', () => {
    expect(fileOf('app://avatar/index.html?share=1&token=x#top')).toBe(join(ROOT, 'index.html'));
    expect(fileOf('app://avatar/index.html?../../etc/passwd')).toBe(join(ROOT, 'index.html'));
    expect(fileOf('app://avatar/?x=%2e%2e')).toBe(join(ROOT, 'index.html'));
  });

  it('never leaves the build: dot segments, encoded ones, encoded slashes and backslashes', () => {
    // Dot segments the URL parser resolves stay below the root (as Chromium resolves them too).
    expect(fileOf('app://avatar/../../../etc/passwd')).toBe(join(ROOT, 'etc', 'passwd'));
    expect(fileOf('app://avatar/assets/%2e%2e/%2e%2e/etc/passwd')).toBe(join(ROOT, 'etc', 'passwd'));
    expect(fileOf('app://avatar/assets/%2E%2E/index.html')).toBe(join(ROOT, 'index.html'));
    // Segments that only decoding turns into a way out are refused.
    expect(statusOf('app://avatar/..%2f..%2f..%2fetc%2fpasswd')).toBe(403);
    expect(statusOf('app://avatar/assets%2f..%2f..%2fsecret')).toBe(403);
    expect(statusOf('app://avatar/%2e%2e%2fsecret')).toBe(403);
    expect(statusOf('app://avatar/..%5c..%5csecret')).toBe(403);
    expect(statusOf('app://avatar/a\\..\\..\\secret')).toBe(403);
    expect(fileOf('app://avatar/assets/%2e/main.js')).toBe(join(ROOT, 'assets', 'main.js'));
  });

  it('keeps absolute paths inside the build; refuses drive letters and NUL bytes', () => {
    expect(fileOf('app://avatar//etc/passwd')).toBe(join(ROOT, 'etc', 'passwd'));
    expect(fileOf('app://avatar/%2fetc%2fpasswd')).toBe(join(ROOT, 'etc', 'passwd'));
    expect(statusOf('app://avatar/C:/Windows/win.ini')).toBe(403);
    expect(statusOf('app://avatar/C%3A%5CWindows%5Cwin.ini')).toBe(403);
    expect(statusOf('app://avatar/index.html%00.png')).toBe(403);
  });

  it('refuses other hosts and schemes, credentials and malformed escapes', () => {
    expect(statusOf('app://evil/index.html')).toBe(404);
    expect(statusOf('app://avatar.evil/index.html')).toBe(404);
    expect(statusOf('app://avatar:8080/index.html')).toBe(404);
    expect(statusOf('file:///etc/passwd')).toBe(404);
    expect(statusOf('http://avatar/index.html')).toBe(404);
    expect(statusOf('app://user:pass@avatar/index.html')).toBe(400);
    expect(statusOf('app://avatar/%E0%A4%A')).toBe(400);
    expect(statusOf('not a url')).toBe(400);
  });
});

describe('app:// responses', () => {
  let root = '';

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'app-protocol-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>avatar</title>');
    writeFileSync(join(root, 'assets', 'main.js'), 'export {};');
    writeFileSync(join(root, '..', `${root.split(sep).at(-1)}-secret.txt`), 'secret');
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', `${root.split(sep).at(-1)}-secret.txt`), { force: true });
  });

  it('serves build files with their type, the CSP and nosniff', async () => {
    const page = await appProtocolResponse('app://avatar/index.html?share=1', root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(APP_CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>avatar</title>');
    const script = await appProtocolResponse('app://avatar/assets/main.js', root);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('export {};');
  });

  it('answers missing files, folders, escapes and other methods with a plain refusal', async () => {
    expect((await appProtocolResponse('app://avatar/missing.js', root)).status).toBe(404);
    expect((await appProtocolResponse('app://avatar/assets', root)).status).toBe(404);
    const escape = await appProtocolResponse(`app://avatar/..%2f${root.split(sep).at(-1)}-secret.txt`, root);
    expect(escape.status).toBe(403);
    expect(await escape.text()).not.toContain('secret');
    expect((await appProtocolResponse('app://avatar/index.html', root, 'POST')).status).toBe(405);
    const head = await appProtocolResponse('app://avatar/index.html', root, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
