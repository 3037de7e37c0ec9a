// Which addresses an outgoing request that an org admin chose (a webhook URL) may reach. Public
// addresses only: an admin must not be able to make the server talk to its own loopback, the
// cloud's metadata service or the private network it sits in, unless the operator allows the host.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** An operator-allowed host (WEBHOOK_ALLOW_HOSTS entry): that host on any port, or on `port` only. */
export interface AllowedHost {
  host: string;
  port: number | undefined;
}

export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Why a target is refused, in words safe to show an admin and to keep in the delivery log. */
export class OutboundRefused extends Error {}

/** A checked target: connect to `address` (never resolve `hostname` again) on `port`. */
export interface OutboundTarget {
  url: URL;
  /** The host name as the URL names it, without IPv6 brackets or a trailing dot (Host header, TLS server name). */
  hostname: string;
  address: string;
  family: 4 | 6;
  port: number;
  allowed: boolean;
}

const systemResolve: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private (RFC 1918) address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or documentation address',
};

/**
 * What is wrong with connecting to `address`, or undefined for a public unicast address.
 * IPv4 must be ordinary unicast; IPv6 must be global unicast (2000::/3) outside every special
 * range. An IPv6 form that carries an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96) is judged
 * by that IPv4 address; the other embedding forms (IPv4-compatible, 6to4, Teredo, SIIT, local
 * NAT64) are refused outright.
 */
export function addressProblem(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
    else if (v6.match(NAT64)) ip = ipaddr.fromByteArray(v6.toByteArray().slice(12));
    else {
      const range = v6.range();
      if (range !== 'unicast') return RANGE_WORDS[range] ?? 'a special-purpose address';
      return v6.match(GLOBAL_UNICAST_V6) ? undefined : 'a reserved or documentation address';
    }
  }
  const range = ip.range();
  return range === 'unicast' ? undefined : (RANGE_WORDS[range] ?? 'a special-purpose address');
}

/** A URL host or allow-list host in one form: lowercase, no brackets, no trailing dot, IPv4 in dotted quads. */
function canonicalHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Parses WEBHOOK_ALLOW_HOSTS: comma-separated `host`, `host:port`, `[v6]` or `[v6]:port`. Each
 * host goes through the same URL parser as the webhook URL, so `0x7f.1` and `127.0.0.1` are one
 * entry. Throws naming the bad entry.
 */
export function parseAllowedHosts(value: string): AllowedHost[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
      const port = match?.[2] === undefined ? undefined : Number(match[2]);
      let host: string | undefined;
      try {
        host = match?.[1] ? canonicalHost(new URL(`http://${match[1]}/`).hostname) : undefined;
      } catch {
        host = undefined;
      }
      if (!host || (port !== undefined && (port < 1 || port > 65535))) throw new Error(`"${entry}" is not a host, host:port or [IPv6]:port`);
      return { host, port };
    });
}

/**
 * Checks a URL an admin gave and resolves it to the one address to connect to. https only,
 * except for an allowed host; every address the name resolves to must be public unless the host
 * is allowed. The caller connects to the returned address, so a name that resolves differently
 * a moment later (DNS rebinding) cannot move the connection.
 */
export async function resolveOutboundTarget(raw: string, allowHosts: readonly AllowedHost[], resolve: ResolveHost = systemResolve): Promise<OutboundTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundRefused('must be an https URL');
  if (url.username !== '' || url.password !== '') throw new OutboundRefused('must not carry a user name or password');
  const hostname = canonicalHost(url.hostname);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const allowed = allowHosts.some((a) => a.host === hostname && (a.port === undefined || a.port === port));
  if (url.protocol !== 'https:' && !allowed) throw new OutboundRefused('must be an https URL (plain http only for a host the operator allows)');

  let addresses: { address: string; family: number }[];
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) }];
  else if (!allowed && (hostname === 'localhost' || hostname.endsWith('.localhost'))) throw new OutboundRefused(`points to ${RANGE_WORDS.loopback}`);
  else {
    addresses = await resolve(hostname).catch(() => []);
    if (addresses.length === 0) throw new OutboundRefused('has a host name that does not resolve');
  }
  if (!allowed) {
    for (const { address } of addresses) {
      const problem = addressProblem(address);
      if (problem) throw new OutboundRefused(`points to ${problem}; webhooks reach public addresses only, unless the operator allows the host`);
    }
  }
  const [first] = addresses;
  if (!first || (first.family !== 4 && first.family !== 6)) throw new OutboundRefused('has a host name that does not resolve');
  return { url, hostname, address: first.address, family: first.family, port, allowed };
}
