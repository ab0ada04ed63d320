import { describe, expect, it } from 'vitest';
import { DOCUMENTATION_HOSTS, mayOpenExternally, type ExternalLinkPolicy } from '../../app/hosts/electron/external-links';
import { mayNavigate, windowOpenDecision } from '../../app/hosts/electron/navigation-policy';
import { originOf, TrustedPages } from '../../app/hosts/electron/trusted-pages';

/** Which pages the app trusts, where its web contents may navigate, and which links leave for the browser. */

const SHARE = 'http://127.0.0.1:41234';
const POOLED = `${SHARE}/?token=app-token&remote=1`;

function withPooledPage(): TrustedPages {
  const pages = new TrustedPages();
  pages.setPooledPage(POOLED);
  return pages;
}

describe('trusted pages', () => {
  it('knows origins the way Chromium serializes them, app:// included', () => {
    expect(originOf('app://avatar/index.html?x=1')).toBe('app://avatar');
    expect(originOf('app://AVATAR/')).toBe('app://avatar');
    expect(originOf('app://avatar')).toBe('app://avatar');
    expect(originOf(`${SHARE}/view?token=t`)).toBe(SHARE);
    expect(originOf('file:///opt/app/out/renderer/index.html')).toBeNull();
    expect(originOf('about:blank')).toBeNull();
    expect(originOf('')).toBeNull();
  });

  it('lets the app page and, with remote talk, the pooled page use the engine; nothing else', () => {
    const pages = new TrustedPages();
    expect(pages.mayUseEngine('app://avatar/index.html')).toBe(true);
    expect(pages.mayUseEngine('app://avatar/index.html?share=1#x')).toBe(true);
    expect(pages.mayUseEngine('app://avatar/view.html')).toBe(false);
    expect(pages.mayUseEngine('file:///opt/app/out/renderer/index.html')).toBe(false);
    expect(pages.mayUseEngine('app://evil/index.html')).toBe(false);
    expect(pages.mayUseEngine(POOLED)).toBe(false);
    const remote = withPooledPage();
    expect(remote.mayUseEngine(POOLED)).toBe(true);
    expect(remote.mayUseEngine(`${SHARE}/?token=app-token`)).toBe(false);
    expect(remote.mayUseEngine(`${SHARE}/view?token=app-token&remote=1`)).toBe(false);
    expect(remote.mayUseEngine(`http://127.0.0.1:9999/?token=app-token&remote=1`)).toBe(false);
    // The share endpoint is for the window's page only.
    expect(remote.isAppPage(POOLED)).toBe(false);
  });

  it('trusts the app origin, and the share server origin only while a pooled page exists', () => {
    const pages = new TrustedPages();
    expect(pages.isTrustedOrigin('app://avatar')).toBe(true);
    expect(pages.isTrustedOrigin('app://avatar/')).toBe(true);
    expect(pages.isTrustedOrigin(`${SHARE}/`)).toBe(false);
    expect(pages.isTrustedOrigin('null')).toBe(false);
    expect(pages.isTrustedOrigin('file:///')).toBe(false);
    expect(withPooledPage().isTrustedOrigin(`${SHARE}/anything`)).toBe(true);
    expect(withPooledPage().isTrustedOrigin('http://127.0.0.1:41235/')).toBe(false);
  });
});

describe('navigation', () => {
  it('stays on the page\'s own trusted origin', () => {
    const pages = withPooledPage();
    expect(mayNavigate('app://avatar/index.html', 'app://avatar/index.html?share=1', pages)).toBe(true);
    expect(mayNavigate(POOLED, `${SHARE}/?token=app-token&remote=1&again=1`, pages)).toBe(true);
    expect(mayNavigate('app://avatar/index.html', 'https://evil.example/', pages)).toBe(false);
    expect(mayNavigate('app://avatar/index.html', 'file:///etc/passwd', pages)).toBe(false);
    expect(mayNavigate('app://avatar/index.html', 'javascript:alert(1)', pages)).toBe(false);
    expect(mayNavigate('app://avatar/index.html', 'data:text/html,<script>1</script>', pages)).toBe(false);
    expect(mayNavigate('app://avatar/index.html', 'app://other/index.html', pages)).toBe(false);
    // Trusted origins do not mix: the window does not move onto the share server, nor a pooled page onto app://.
    expect(mayNavigate('app://avatar/index.html', POOLED, pages)).toBe(false);
    expect(mayNavigate(POOLED, 'app://avatar/index.html', pages)).toBe(false);
  });

  it('before the first page, requires a trusted origin (redirects during the initial load)', () => {
    const pages = new TrustedPages();
    expect(mayNavigate('', 'app://avatar/index.html', pages)).toBe(true);
    expect(mayNavigate('about:blank', 'https://evil.example/', pages)).toBe(false);
    expect(mayNavigate('', POOLED, pages)).toBe(false);
  });
});

describe('external links', () => {
  const policy: ExternalLinkPolicy = { httpsHosts: DOCUMENTATION_HOSTS, loopbackOrigins: [SHARE] };

  it('opens documentation over https and the share server\'s own viewer and talk pages', () => {
    expect(mayOpenExternally('https://obsproject.com/kb/browser-source', policy)).toBe(true);
    expect(mayOpenExternally('https://github.com/obsproject/obs-studio', policy)).toBe(true);
    expect(mayOpenExternally(`${SHARE}/view?token=view-token`, policy)).toBe(true);
    expect(mayOpenExternally(`${SHARE}/view?token=talk-token&talk=1`, policy)).toBe(true);
  });

  it('opens nothing else', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'app://avatar/index.html',
      'smb://attacker.example/share',
      'ms-msdt:/id PCWDiagnostic',
      'vscode://file/etc/passwd',
      'mailto:someone@example.com',
      'http://obsproject.com/',
      'http://example.com/',
      'http://127.0.0.1:22/',
      'http://localhost:41234/view',
      'https://evil.example/',
      'https://obsproject.com.evil.example/',
      'https://sub.github.com/',
      'https://github.com:8443/',
      'https://user:pass@github.com/',
      'not a url',
    ]) {
      expect(mayOpenExternally(url, policy), url).toBe(false);
    }
    expect(mayOpenExternally(`${SHARE}/view`, { httpsHosts: DOCUMENTATION_HOSTS, loopbackOrigins: [] })).toBe(false);
  });

  it('never lets a page open a window: allowed links go to the browser instead', () => {
    expect(windowOpenDecision('https://obsproject.com/', policy)).toEqual({ action: 'deny', openExternally: true });
    expect(windowOpenDecision('file:///etc/passwd', policy)).toEqual({ action: 'deny', openExternally: false });
    expect(windowOpenDecision('about:blank', policy)).toEqual({ action: 'deny', openExternally: false });
  });
});
