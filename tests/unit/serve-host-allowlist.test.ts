import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HostAllowlist } from '../../app/hosts/serve/host-allowlist';

/** DNS rebinding protection: which Host values the server answers to. */

const ownAddress = Object.values(networkInterfaces())
  .flatMap((list) => list ?? [])
  .find((entry) => entry.family === 'IPv4' && !entry.internal)?.address;

describe('HostAllowlist', () => {
  it('answers to its loopback names with its own port only', () => {
    const hosts = new HostAllowlist(() => 5173, false);
    for (const host of ['127.0.0.1:5173', 'localhost:5173', 'LOCALHOST:5173', '[::1]:5173']) expect(hosts.check('/', host)).toBe('allowed');
    for (const host of ['127.0.0.1', 'localhost:5174', 'evil.example:5173', 'localhost.:5173', '0.0.0.0:5173', ...(ownAddress ? [`${ownAddress}:5173`] : [])]) {
      expect({ host, verdict: hosts.check('/', host) }).toEqual({ host, verdict: 421 });
    }
    for (const host of [undefined, '', 'a b:5173', '[::1', 'localhost:99x']) expect({ host, verdict: hosts.check('/', host) }).toEqual({ host, verdict: 400 });
  });

  it('takes the authority of an absolute-form target instead of the Host header', () => {
    const hosts = new HostAllowlist(() => 8080, false);
    expect(hosts.check('http://evil.example:8080/', '127.0.0.1:8080')).toBe(421);
    expect(hosts.check('http://localhost:8080/healthz', 'evil.example')).toBe('allowed');
    expect(hosts.check('http://evil:99999/x', '127.0.0.1:8080')).toBe(400);
  });

  it.skipIf(!ownAddress)('with LAN access also answers to this machine’s own addresses', () => {
    const hosts = new HostAllowlist(() => 5173, true);
    expect(hosts.check('/', `${ownAddress}:5173`)).toBe('allowed');
    expect(hosts.check('/', '203.0.113.9:5173')).toBe(421);
    expect(hosts.check('/', 'my-box.local:5173')).toBe(421);
  });

  it('behind a load balancer also answers to its public addresses, exactly (name and port)', () => {
    const hosts = new HostAllowlist(() => 8000, true, ['127.0.0.1:8443', 'avatar.example.com']);
    expect(hosts.check('/', '127.0.0.1:8443')).toBe('allowed');
    expect(hosts.check('/', 'AVATAR.example.com')).toBe('allowed');
    expect(hosts.check('/', 'avatar.example.com:80')).toBe('allowed');
    expect(hosts.check('/', 'avatar.example.com:8443')).toBe(421);
    expect(hosts.check('/', '127.0.0.1:8444')).toBe(421);
    expect(hosts.check('/', 'evil.example:8443')).toBe(421);
  });
});
