import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { addressProblem, OutboundRefused, parseAllowedHosts, resolveOutboundTarget, type ResolveHost } from './outbound-address';

const dnsOf =
  (names: Record<string, string[]>): ResolveHost =>
  async (hostname) => {
    const addresses = names[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (err: unknown) => (err instanceof OutboundRefused ? err.message : `unexpected: ${String(err)}`),
  );

describe('outbound addresses', () => {
  it.each([
    ['93.184.216.34'],
    ['8.8.8.8'],
    ['2606:2800:220:1:248:1893:25c8:1946'],
    ['::ffff:93.184.216.34'],
    // NAT64 of a public address: how an IPv6-only network reaches the IPv4 internet.
    ['64:ff9b::5db8:d822'],
  ])('lets %s through: a public unicast address', (address) => {
    expect(addressProblem(address)).toBeUndefined();
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.1', 'documentation'],
    ['203.0.113.1', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b:1::a00:1', 'special-purpose'],
    ['::7f00:1', 'reserved'],
    ['::ffff:0:7f00:1', 'special-purpose'],
    ['2002:7f00:1::1', 'special-purpose'],
    ['2001::1', 'special-purpose'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'special-purpose'],
  ])('refuses %s as %s', (address, words) => {
    expect(addressProblem(address)).toContain(words);
  });

  it('refuses a name when any address it resolves to is not public, and connects to the address it checked', async () => {
    const dns = dnsOf({ 'hooks.example.com': ['93.184.216.34'], 'split.example.com': ['93.184.216.34', '10.0.0.7'], 'v6.example.com': ['fd00::7'] });
    expect(await resolveOutboundTarget('https://hooks.example.com/in', [], dns)).toMatchObject({
      hostname: 'hooks.example.com',
      address: '93.184.216.34',
      family: 4,
      port: 443,
      allowed: false,
    });
    expect(await refusal(resolveOutboundTarget('https://split.example.com/', [], dns))).toMatch(/^points to a private \(RFC 1918\) address/);
    expect(await refusal(resolveOutboundTarget('https://v6.example.com/', [], dns))).toMatch(/^points to a unique-local address/);
    expect(await refusal(resolveOutboundTarget('https://nowhere.example.com/', [], dns))).toBe('has a host name that does not resolve');
    // localhost is loopback by name (RFC 6761), whatever a resolver would say.
    expect(await refusal(resolveOutboundTarget('https://localhost./', [], dnsOf({ 'localhost.': ['93.184.216.34'] })))).toMatch(/loopback/);
  });

  it('wants https, except for a host the operator allows, which may be private', async () => {
    const dns = dnsOf({ 'receiver.internal': ['10.1.2.3'], 'hooks.example.com': ['93.184.216.34'] });
    const allow = parseAllowedHosts('Receiver.Internal., 0x7f.1:9999');
    expect(await refusal(resolveOutboundTarget('http://hooks.example.com/', allow, dns))).toMatch(/^must be an https URL/);
    expect(await refusal(resolveOutboundTarget('ftp://hooks.example.com/', allow, dns))).toMatch(/^must be an https URL/);
    expect(await refusal(resolveOutboundTarget('https://user:pw@hooks.example.com/', allow, dns))).toMatch(/user name or password/);
    expect(await resolveOutboundTarget('http://RECEIVER.internal/hooks', allow, dns)).toMatchObject({ address: '10.1.2.3', port: 80, allowed: true });
    expect(await resolveOutboundTarget('http://2130706433:9999/', allow, dns)).toMatchObject({ address: '127.0.0.1', port: 9999, allowed: true });
    // The allowed port only.
    expect(await refusal(resolveOutboundTarget('https://127.0.0.1:22/', allow, dns))).toMatch(/loopback/);
  });

  it('reads WEBHOOK_ALLOW_HOSTS in one spelling per host, and a bad entry names the variable', () => {
    expect(parseAllowedHosts(' receiver.internal , 127.0.0.1:9999,[::1]:8443, 0177.0.0.2 ')).toEqual([
      { host: 'receiver.internal', port: undefined },
      { host: '127.0.0.1', port: 9999 },
      { host: '::1', port: 8443 },
      { host: '127.0.0.2', port: undefined },
    ]);
    expect(parseConfig({}).WEBHOOK_ALLOW_HOSTS).toEqual([]);
    expect(parseConfig({ WEBHOOK_ALLOW_HOSTS: 'hooks.internal:8080' }).WEBHOOK_ALLOW_HOSTS).toEqual([{ host: 'hooks.internal', port: 8080 }]);
    for (const bad of ['http://hooks.internal', 'hooks.internal:99999', 'a b', '[zz]:80', 'host:0']) {
      expect(() => parseConfig({ WEBHOOK_ALLOW_HOSTS: bad })).toThrow(/WEBHOOK_ALLOW_HOSTS: .* is not a host/);
    }
  });
});
