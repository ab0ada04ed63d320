import { networkInterfaces } from 'node:os';

/** What a request's Host says: answer it, or refuse it (400: no or malformed Host, 421: a name this host does not answer to). */
export type HostVerdict = 'allowed' | 400 | 421;

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);

/** `name` and port of a Host value (`name`, `name:port`, `[v6]:port`), lowercased; null when malformed. */
function parseHost(value: string): { name: string; port: number } | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec(value.trim().toLowerCase());
  if (!match) return null;
  return { name: match[1] ?? match[2]!, port: match[3] === undefined ? 80 : Number(match[3]) };
}

function sameHost(a: { name: string; port: number } | null, b: { name: string; port: number }): boolean {
  return a !== null && a.name === b.name && a.port === b.port;
}

/** Whether `value` is a Host this allowlist can hold (`name[:port]`). */
export function isHostValue(value: string): boolean {
  return parseHost(value) !== null;
}

/**
 * DNS rebinding protection: a page on an attacker's name that resolves to 127.0.0.1 sends that name
 * as its Host, so a request is answered only when its Host is this server's own — 127.0.0.1,
 * localhost or [::1] with its port, and with LAN access also one of this machine's addresses.
 * Behind a load balancer, also the names given as public hosts (exactly, with their port).
 * For an absolute-form target (`GET http://h:p/x`) its authority is the host (RFC 9112 §3.2.2).
 */
export class HostAllowlist {
  constructor(
    /** The port the server listens on (known once it listens). */
    private readonly port: () => number,
    /** LAN access: this machine's own addresses (read per request: they change with the network). */
    private readonly lan: boolean,
    /** `name:port` values a load balancer in front answers to (`--public-host`): its clients send them as Host. */
    private readonly publicHosts: readonly string[] = [],
  ) {}

  check(target: string | undefined, hostHeader: string | undefined): HostVerdict {
    let value = hostHeader;
    if (target && /^https?:\/\//i.test(target)) {
      try {
        value = new URL(target).host;
      } catch {
        return 400;
      }
    }
    if (!value) return 400;
    const host = parseHost(value);
    if (!host) return 400;
    if (this.publicHosts.some((entry) => sameHost(parseHost(entry), host))) return 'allowed';
    if (host.port !== this.port()) return 421;
    if (LOOPBACK_NAMES.has(host.name)) return 'allowed';
    return this.lan && this.ownAddresses().has(host.name) ? 'allowed' : 421;
  }

  private ownAddresses(): Set<string> {
    return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address.toLowerCase())));
  }
}
