import type { SocketAddress } from '@natkit/sans-io';

/** Candidate types (RFC 8445 §5.1.1; SDP tokens of RFC 8839 §5.1). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/**
 * One ICE candidate (RFC 8445 §5.1). Plain data: agents refer to candidates by their index in
 * the agent's own arrays, never by object identity across agents.
 */
export interface Candidate {
  /** RFC 8445 §5.1.1.3: equal for candidates of the same type, base IP, server and transport. 1–32 ice-chars. */
  readonly foundation: string;
  /** RFC 8445 §5.1.1: 1 = RTP (or everything with rtcp-mux), 2 = RTCP. Range 1–256. */
  readonly component: number;
  /** Transport protocol token as in SDP, upper-cased (`UDP`; RFC 8839 §5.1 allows other tokens). */
  readonly transport: string;
  /** RFC 8445 §5.1.2: 1 ≤ priority ≤ 2^31−1. */
  readonly priority: number;
  /** The candidate's transport address. */
  readonly address: SocketAddress;
  /** RFC 8445 §5.1.1. */
  readonly type: CandidateType;
  /**
   * Related address (RFC 8839 §5.1 raddr/rport): the base for srflx/prflx, the mapped address
   * for relay; absent for host.
   */
  readonly related?: SocketAddress;
  /**
   * Extensions (RFC 8839 §5.1 `cand-extension`), e.g. `generation`, `ufrag`, `network-id`.
   * Kept verbatim so a candidate round-trips; agents ignore them.
   */
  readonly extensions?: Readonly<Record<string, string>>;
}

/**
 * Recommended type preferences (RFC 8445 §5.1.2.2): host 126, prflx 110, srflx 100, relay 0.
 * prflx must be above srflx so a pair learnt from a check is preferred over its srflx twin.
 */
export const TYPE_PREFERENCE: Readonly<Record<CandidateType, number>> = {
  host: 126,
  prflx: 110,
  srflx: 100,
  relay: 0,
};

/**
 * Candidate priority, RFC 8445 §5.1.2.1:
 * `2^24·typePref + 2^8·localPref + (256 − componentId)`.
 * Multiplication (not shifts) so a typePref of 126 never goes through a signed 32-bit int.
 * @throws RangeError on out-of-range arguments (programmer error).
 */
export function candidatePriority(type: CandidateType, localPreference = 65535, component = 1): number {
  if (!Number.isInteger(localPreference) || localPreference < 0 || localPreference > 65535) {
    throw new RangeError(`localPreference must be an integer in 0..65535, got ${localPreference}`);
  }
  if (!Number.isInteger(component) || component < 1 || component > 256) {
    throw new RangeError(`component must be an integer in 1..256, got ${component}`);
  }
  return TYPE_PREFERENCE[type] * 16777216 + localPreference * 256 + (256 - component);
}

/**
 * Pair priority, RFC 8445 §6.1.2.3, with G the controlling agent's candidate priority and D the
 * controlled agent's: `2^32·min(G,D) + 2·max(G,D) + (G > D ? 1 : 0)`. The result needs 63 bits,
 * hence `bigint`.
 */
export function pairPriority(controlling: number, controlled: number): bigint {
  const min = Math.min(controlling, controlled);
  const max = Math.max(controlling, controlled);
  return (BigInt(min) << 32n) + BigInt(2 * max + (controlling > controlled ? 1 : 0));
}

/**
 * A foundation (RFC 8445 §5.1.1.3): candidates share it iff they have the same type, the same
 * base IP address (port ignored), the same STUN/TURN server IP (reflexive/relayed) and the same
 * transport. Derived by hashing that tuple (FNV-1a, 32 bit) so it needs no per-agent counter and
 * two agents in one process agree; rendered in ice-chars (RFC 8839 §5.1 allows 1–32).
 */
export function candidateFoundation(
  type: CandidateType,
  baseAddress: string,
  transport = 'UDP',
  serverAddress = '',
): string {
  const text = `${type}|${baseAddress}|${transport.toUpperCase()}|${serverAddress}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(10);
}

/** `address:port` (IPv6 in brackets) — a Map key for transport addresses. */
export function addressKey(address: SocketAddress): string {
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

/** True when two transport addresses are the same IP, port and family. */
export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.address === b.address && a.family === b.family;
}

/** Builds a host candidate (RFC 8445 §5.1.1.1) with the recommended priority for one address. */
export function hostCandidate(
  address: SocketAddress,
  options: { localPreference?: number; component?: number } = {},
): Candidate {
  const component = options.component ?? 1;
  return {
    foundation: candidateFoundation('host', address.address),
    component,
    transport: 'UDP',
    priority: candidatePriority('host', options.localPreference ?? 65535, component),
    address,
    type: 'host',
  };
}
