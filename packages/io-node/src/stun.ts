/**
 * "What is my public address?" — a STUN Binding request from `@natkit/stun-agent`'s
 * `StunClient`, run over this package's UDP driver. Kept on its own entry point
 * (`@natkit/io-node/stun`) so the driver itself depends on the sans-IO contract only.
 * @module
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DriverEvent } from '@natkit/io-core';
import type { SocketAddress } from '@natkit/sans-io';
import {
  type Credentials,
  StunClient,
  type StunClientEvent,
  type StunClientOptions,
} from '@natkit/stun-agent';
import { bindUdp } from './driver.ts';

/** The default STUN port (RFC 8489 §18.6). */
export const DEFAULT_STUN_PORT = 3478;

/**
 * Splits `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 literal is a host without a
 * port). Throws a `TypeError` on a malformed port.
 */
export function parseHostPort(text: string, defaultPort = DEFAULT_STUN_PORT): { host: string; port: number } {
  let host = text.trim();
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) throw new TypeError(`bad address ${JSON.stringify(text)}: missing ]`);
    const rest = host.slice(end + 1);
    host = host.slice(1, end);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new TypeError(`bad address ${JSON.stringify(text)}`);
      port = rest.slice(1);
    }
  } else {
    const colon = host.lastIndexOf(':');
    // One colon: host:port. Several: a bare IPv6 literal.
    if (colon >= 0 && host.indexOf(':') === colon) {
      port = host.slice(colon + 1);
      host = host.slice(0, colon);
    }
  }
  if (host === '') throw new TypeError(`bad address ${JSON.stringify(text)}: no host`);
  if (port === undefined) return { host, port: defaultPort };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65_535) throw new TypeError(`bad port in ${JSON.stringify(text)}`);
  return { host, port: n };
}

/** Turns `host[:port]` into a transport address, resolving a name with the system resolver. */
export async function resolveServer(
  server: string | SocketAddress,
  family?: 'IPv4' | 'IPv6',
): Promise<SocketAddress> {
  if (typeof server !== 'string') return server;
  const { host, port } = parseHostPort(server);
  const literal = isIP(host);
  if (literal !== 0) return { address: host, port, family: literal === 6 ? 'IPv6' : 'IPv4' };
  const found = await lookup(host, { family: family === 'IPv6' ? 6 : family === 'IPv4' ? 4 : 0 });
  return { address: found.address, port, family: found.family === 6 ? 'IPv6' : 'IPv4' };
}

/** Options of {@link publicAddress}. */
export interface PublicAddressOptions {
  /** Credentials, e.g. `{ type: 'long-term', username, password }` for a TURN server that demands them. */
  credentials?: Credentials;
  /** Local address to bind. Default: the wildcard address of the server's family. */
  localAddress?: string;
  /** Local port. Default 0 (any). */
  localPort?: number;
  /** Address family to resolve a host name to. Default: whatever the resolver returns first. */
  family?: 'IPv4' | 'IPv6';
  /** Client options (RTO, retransmission count, SOFTWARE, ...). Default: RFC 8489's (about 39.5 s to give up). */
  client?: StunClientOptions;
  /** Abort the query (e.g. `AbortSignal.timeout(5000)`). */
  signal?: AbortSignal;
}

/** The answer of {@link publicAddress}. */
export interface PublicAddress {
  /** Our address as the server saw it (XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from a classic server). */
  mapped: SocketAddress;
  /** Round-trip time of the answered request, ms. */
  rtt: number;
  retransmits: number;
  /** The server that answered (after any ALTERNATE-SERVER redirect). */
  server: SocketAddress;
  /** The local socket the request went out on. */
  local: SocketAddress;
}

/** A STUN query that ended without a mapped address. */
export class StunQueryError extends Error {
  override readonly name = 'StunQueryError';
  /** The STUN error code for an error response (401, 438, 500, ...). */
  readonly code: number | undefined;
  /** `error-response`, a client failure reason (`timeout`, `auth`, ...), `no-address` or `socket`. */
  readonly kind: string;
  constructor(kind: string, message: string, code?: number) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

type MachineEvent = Extract<DriverEvent<StunClientEvent>, { type: 'machine' }>;

/**
 * Asks a STUN server for our public (server-reflexive) address:
 *
 * ```ts
 * const { mapped, rtt } = await publicAddress('stun.example.org:3478');
 * ```
 *
 * Binds a fresh UDP socket, sends one Binding request (retransmitted per RFC 8489 §6.2.1, with
 * the 401 → retry flow when `credentials` are long-term), and closes the socket afterwards.
 */
export async function publicAddress(
  server: string | SocketAddress,
  options: PublicAddressOptions = {},
): Promise<PublicAddress> {
  const destination = await resolveServer(server, options.family);
  const driver = await bindUdp(new StunClient(options.client ?? {}), {
    family: destination.family,
    ...(options.localAddress === undefined ? {} : { address: options.localAddress }),
    ...(options.localPort === undefined ? {} : { port: options.localPort }),
  });
  try {
    const answered = driver.waitFor((e): e is MachineEvent => e.type === 'machine', options.signal);
    driver.update((client) =>
      client.request(
        destination,
        driver.now(),
        options.credentials === undefined ? {} : { credentials: options.credentials },
      ),
    );
    const { event } = await answered;
    switch (event.type) {
      case 'success': {
        const local = driver.localAddress;
        if (event.mappedAddress === undefined || local === undefined)
          throw new StunQueryError('no-address', 'the success response carried no mapped address');
        return {
          mapped: event.mappedAddress,
          rtt: event.rtt,
          retransmits: event.retransmits,
          server: event.destination,
          local,
        };
      }
      case 'error-response':
        throw new StunQueryError(
          'error-response',
          `STUN error ${event.code}${event.reason ? ` ${event.reason}` : ''}`,
          event.code,
        );
      case 'failure':
        throw new StunQueryError(event.reason, `STUN request failed: ${event.reason} (${event.detail})`);
      default: {
        const unreachable: never = event;
        throw new Error(`unexpected event ${JSON.stringify(unreachable)}`);
      }
    }
  } finally {
    await driver.close();
  }
}

/** `address:port`, with brackets around IPv6 literals. */
export function formatAddress(a: SocketAddress): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
