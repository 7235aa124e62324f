import type { SocketAddress } from '@natkit/sans-io';

/** How a dual-stack IPv6 socket writes an IPv4 peer: `::ffff:192.0.2.1` (RFC 4291 §2.5.5.2). */
export const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * A peer's address as a machine should see it. A dual-stack IPv6 socket (bound to `::` without
 * IPV6_V6ONLY, Linux's default) reports IPv4 peers as IPv4-mapped IPv6 addresses; the machine is
 * told the IPv4 address instead, which is what the peer is, and what for instance a STUN server
 * must put in XOR-MAPPED-ADDRESS (an IPv4 client cannot use `::ffff:…`). A driver that tells a
 * machine so must send to such a peer at the mapped address again if its socket needs that.
 */
export function peerAddress(address: string, port: number, family: 'IPv4' | 'IPv6'): SocketAddress {
  if (
    family === 'IPv6' &&
    (address.startsWith(IPV4_MAPPED_PREFIX) || address.startsWith('::FFFF:')) &&
    address.includes('.', IPV4_MAPPED_PREFIX.length)
  ) {
    return { address: address.slice(IPV4_MAPPED_PREFIX.length), port, family: 'IPv4' };
  }
  return { address, port, family };
}
