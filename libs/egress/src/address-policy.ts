import ipaddr from 'ipaddr.js';
import type { PrivateNetwork } from '#agentplane/config';

/** Whether an address may be connected to, and if not, which range it fell in (for logs and tests). */
export type AddressVerdict = { readonly public: true } | { readonly public: false; readonly range: string };

const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parse('2000::');
// Forms that embed or tunnel to another address. ipaddr.js calls some of these `unicast`, and
// the IPv4 address inside can be anything, so none of them is accepted.
const IPV6_EMBEDDING: readonly (readonly [string, ipaddr.IPv6, number])[] = [
  ['ipv4Compatible', ipaddr.IPv6.parse('::'), 96],
  ['nat64', ipaddr.IPv6.parse('64:ff9b::'), 96],
  ['nat64Local', ipaddr.IPv6.parse('64:ff9b:1::'), 48],
  ['6to4', ipaddr.IPv6.parse('2002::'), 16],
  ['teredo', ipaddr.IPv6.parse('2001::'), 32],
];

// Cloud hosts' own services, refused wherever they sit: on addresses ipaddr.js calls plain unicast,
// or inside ranges an operator may open (AGENTPLANE_EGRESS_PRIVATE_NETWORKS). 169.254.169.254 is
// link-local, which nothing opens.
const METADATA_ADDRESSES = new Set([
  // Azure wireserver and its metadata/health endpoint, reachable from every Azure VM.
  '168.63.129.16',
  // Alibaba Cloud's metadata service, in shared address space (100.64.0.0/10).
  '100.100.100.200',
  // AWS's IPv6 metadata service, in unique-local space (fc00::/7).
  'fd00:ec2::254',
]);

/**
 * Classifies an IP address (v4 dotted quad or v6, without brackets or zone) the way egress
 * needs: only globally routable unicast is public. IPv4-mapped IPv6 is judged as the IPv4
 * address it carries; IPv6 outside 2000::/3 is never public.
 */
export function classifyAddress(address: string): AddressVerdict {
  const parsed = judged(address);
  if (parsed === undefined) return { public: false, range: 'invalid' };
  if (METADATA_ADDRESSES.has(parsed.toString())) return { public: false, range: 'cloudMetadata' };
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.range() === 'loopback' || v6.range() === 'unspecified') return { public: false, range: v6.range() };
    for (const [name, prefix, bits] of IPV6_EMBEDDING) if (v6.match(prefix, bits)) return { public: false, range: name };
    if (!v6.match(IPV6_GLOBAL_UNICAST, 3)) return { public: false, range: v6.range() === 'unicast' ? 'notGlobal' : v6.range() };
  }
  const range = parsed.range();
  return range === 'unicast' ? { public: true } : { public: false, range };
}

// The ranges an operator may open to egress by listing a network in them (AGENTPLANE_EGRESS_PRIVATE_NETWORKS):
// RFC 1918, shared address space and IPv6 unique local. Loopback, link-local (cloud metadata lives
// there), multicast, reserved, the embedding forms and METADATA_ADDRESSES stay refused whatever is listed.
const OPENABLE_RANGES = new Set(['private', 'carrierGradeNat', 'uniqueLocal']);

/**
 * May egress connect to this address? Public addresses, and addresses of an openable range inside
 * one of `networks`. IPv4-mapped IPv6 is judged as the IPv4 address it carries.
 */
export function isAllowedAddress(address: string, networks: readonly PrivateNetwork[]): boolean {
  const verdict = classifyAddress(address);
  if (verdict.public) return true;
  if (networks.length === 0 || !OPENABLE_RANGES.has(verdict.range)) return false;
  const parsed = judged(address)!;
  return networks.some((network) => {
    const base = ipaddr.parse(network.address);
    return base.kind() === parsed.kind() && parsed.match(base, network.prefixLength);
  });
}

/** The address as the policy judges it (IPv4-mapped IPv6 as the IPv4 address it carries); undefined when it is none. */
function judged(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address) || address.includes('%')) return undefined;
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

/** True for a string Node would treat as an IP literal (v4 dotted quad or v6). */
export function isIpLiteral(host: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host);
}
