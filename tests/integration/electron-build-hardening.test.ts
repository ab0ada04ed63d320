import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { APP_CONTENT_SECURITY_POLICY } from '../../app/hosts/electron/app-protocol';

/**
 * What ships: the built renderer's CSP, what the built Electron main does before `ready` (run under a
 * recording stand-in for `electron`, since the binary cannot run here), the preload's one API, and
 * the fuses electron-builder flips in the packaged binary.
 */

const require = createRequire(import.meta.url);
// js-yaml and app-builder-lib come with electron-builder (a dev dependency); only this test reads YAML.
const { load: parseYaml } = require('js-yaml') as { load(text: string): unknown };
const builderSchema = require('app-builder-lib/scheme.json') as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };

interface RecordedCall {
  name: string;
  args: unknown[];
}

let mainCalls: RecordedCall[] = [];

beforeAll(() => {
  const build = spawnSync(process.execPath, ['--input-type=module', '-e', "import { buildIfStale } from './scripts/build-if-stale.mjs'; buildIfStale(process.cwd());"], {
    cwd: appRoot,
    encoding: 'utf8',
  });
  expect(build.status, build.stderr).toBe(0);
  const main = spawnSync(process.execPath, ['--import', './tests/support/electron-stub/register.mjs', 'out/main/electron-main.js'], {
    cwd: appRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(main.status, main.stderr).toBe(0);
  mainCalls = JSON.parse(main.stdout) as RecordedCall[];
}, 180_000);

/** CSP directives by name → their source lists. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

function metaPolicy(html: string): string {
  const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
  expect(match, 'a CSP meta tag').not.toBeNull();
  return match![1]!;
}

function expectStrictPolicy(policy: string): void {
  const csp = directives(policy);
  expect(policy).not.toMatch(/unsafe-eval|wasm-unsafe-eval|unsafe-hashes|strict-dynamic/);
  expect(csp.get('default-src')).toEqual(["'self'"]);
  // Scripts and workers only from the app itself: no inline scripts, no remote hosts, no wildcards.
  expect(csp.get('script-src')).toEqual(["'self'"]);
  for (const source of csp.get('worker-src') ?? []) expect(["'self'", 'blob:']).toContain(source);
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(csp.get('base-uri')).toEqual(["'none'"]);
  // The network: the page's own origin and the loopback share server only.
  for (const source of csp.get('connect-src') ?? []) expect(source).toMatch(/^('self'|ws:\/\/127\.0\.0\.1:\*|ws:\/\/localhost:\*)$/);
  // No directive names a remote host or a wildcard.
  for (const [name, sources] of csp) {
    for (const source of sources) expect(source, `${name} ${source}`).not.toMatch(/^(\*|https?:)/);
  }
}

describe('built renderer', () => {
  it.each(['index.html', 'view.html'])('%s carries a strict CSP and no inline script', (page) => {
    const html = readFileSync(join(appRoot, 'out', 'renderer', page), 'utf8');
    expectStrictPolicy(metaPolicy(html));
    for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      expect(attributes).toMatch(/\ssrc="\.\/assets\//);
      expect(body!.trim()).toBe('');
    }
  });

  it('the app:// header policy is as strict and forbids framing', () => {
    expectStrictPolicy(APP_CONTENT_SECURITY_POLICY);
    expect(directives(APP_CONTENT_SECURITY_POLICY).get('frame-ancestors')).toEqual(["'none'"]);
    // The header and the page's own meta tag agree on where scripts and connections may come from.
    const meta = directives(metaPolicy(readFileSync(join(appRoot, 'out', 'renderer', 'index.html'), 'utf8')));
    const header = directives(APP_CONTENT_SECURITY_POLICY);
    for (const name of ['default-src', 'script-src', 'connect-src', 'worker-src', 'object-src']) expect(header.get(name), name).toEqual(meta.get(name));
  });
});

describe('built Electron main, before ready', () => {
  const names = (): string[] => mainCalls.map((call) => call.name);

  it('registers the app scheme as privileged (standard, secure; no CSP bypass) and enables the sandbox before ready', () => {
    const registered = mainCalls.find((call) => call.name === 'protocol.registerSchemesAsPrivileged');
    expect(registered?.args).toEqual([[{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]]);
    expect(JSON.stringify(registered?.args)).not.toMatch(/bypassCSP|corsEnabled|allowServiceWorkers/);
    expect(names().indexOf('protocol.registerSchemesAsPrivileged')).toBeLessThan(names().indexOf('app.whenReady'));
    expect(names().indexOf('app.enableSandbox')).toBeLessThan(names().indexOf('app.whenReady'));
  });

  it('installs one web-contents-created policy, answers only its two IPC channels, and starts no share server', () => {
    expect(mainCalls.filter((call) => call.name === 'app.on' && call.args[0] === 'web-contents-created')).toHaveLength(1);
    expect(mainCalls.filter((call) => call.name.startsWith('ipcMain.')).map((call) => call.args[0])).toEqual(['avatar:to-engine', 'avatar:share-endpoint']);
    // The protocol is served after ready; and the process exited on its own, so nothing listened.
    expect(names()).not.toContain('protocol.handle');
  });
});

describe('built preload', () => {
  it('exposes one API, avatarBridge, and nothing of Node or Electron', () => {
    const preload = readFileSync(join(appRoot, 'out', 'preload', 'preload.cjs'), 'utf8');
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).toMatch(/exposeInMainWorld\("avatarBridge"/);
    expect(preload).not.toMatch(/require\("(node:)?(fs|child_process|path|os)"\)/);
  });
});

describe('electron-builder fuses', () => {
  const config = parseYaml(readFileSync(join(appRoot, 'electron-builder.yml'), 'utf8')) as { electronFuses?: Record<string, boolean>; asar?: boolean };

  it('turn off Node entry points, require the integrity-checked asar, encrypt cookies, and drop file:// privileges', () => {
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('uses only option names electron-builder knows (a misspelt fuse would be silently ignored)', () => {
    const known = Object.keys(builderSchema.definitions.FuseOptionsV1.properties);
    for (const name of Object.keys(config.electronFuses ?? {})) expect(known).toContain(name);
  });
});
