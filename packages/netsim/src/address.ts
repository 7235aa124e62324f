import type { SocketAddress } from '@natkit/sans-io';

/** The family of a textual IP address: anything containing `:` is IPv6. */
export function familyOf(ip: string): SocketAddress['family'] {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/** Builds a {@link SocketAddress}, inferring the family from the address text. */
export function socketAddress(address: string, port: number): SocketAddress {
  return { address, port, family: familyOf(address) };
}

/** Parses `192.0.2.1:3478` or `[2001:db8::1]:3478`. Throws on anything else (a programmer error). */
export function parseSocketAddress(text: string): SocketAddress {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new TypeError(`not a socket address: ${text}`);
  return socketAddress(m[1]!, port);
}

/** `192.0.2.1:3478` or `[2001:db8::1]:3478`; also the key netsim uses in its tables. */
export function formatSocketAddress(a: SocketAddress): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * Whether two socket addresses are the same. Addresses compare textually, so use one
 * spelling per address (netsim never rewrites the text it is given).
 */
export function sameSocketAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.address === b.address;
}
