import type { SocketAddress } from '@natkit/sans-io';
import type { Candidate } from './candidate.ts';

/** RFC 8445 §6.1.1 / §7.1.3: which side nominates. */
export type IceRole = 'controlling' | 'controlled';

/** RFC 8445 §2.5: a lite agent only answers checks; a full agent also runs them. */
export type IceMode = 'lite' | 'full';

/**
 * Agent state, named like `RTCIceConnectionState` (W3C webrtc §5.6.4) so applications can map it
 * 1:1; RFC 8445 itself only knows Running / Completed / Failed (§6.1.3).
 * - `new`: nothing authenticated yet.
 * - `checking`: checks are flowing (lite: an authenticated check arrived; full: checks sent).
 * - `connected`: a pair is selected and consent is fresh — data may flow.
 * - `completed`: full agents only — the controlling side's nomination succeeded and checks ended.
 * - `disconnected`: the selected pair has not been refreshed for `disconnectedTimeout` (RFC 7675).
 * - `failed`: consent expired (30 s, RFC 7675 §5.1) or was revoked (authenticated 403, §5.2), every
 *   pair failed, or (full) a nomination check failed, which fails the checklist (RFC 8445
 *   §7.2.5.3.4) — no other pair is nominated; an ICE restart is needed.
 * - `closed`: `close()` was called.
 */
export type IceState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';

/** Events an agent emits (pulled with `pollEvent`). */
export type IceEvent =
  | { type: 'state'; state: IceState }
  /** Send data from `local.address` (the pair's base) to `remote.address` (RFC 8445 §12.1). */
  | { type: 'selected-pair'; local: Candidate; remote: Candidate }
  /** A peer-reflexive remote candidate learnt from a check (RFC 8445 §7.3.1.3). */
  | { type: 'remote-candidate'; candidate: Candidate }
  /** A local candidate became available (full mode: server-reflexive from gathering). */
  | { type: 'local-candidate'; candidate: Candidate }
  /** Gathering of local candidates finished (full mode). */
  | { type: 'gathering-complete' }
  /** The role changed after a role conflict (RFC 8445 §7.3.1.1 / §7.2.5.1). */
  | { type: 'role'; role: IceRole }
  /** After `restart()`, the peer authenticated with the new credentials; the old ones are gone. */
  | { type: 'restart-complete'; ufrag: string };

/**
 * What `handleInput` did with a datagram. Drivers may ignore it; parents use `not-stun` to
 * hand the datagram to another consumer (DTLS, RTP…).
 */
export type InputVerdict =
  | 'answered' // authenticated Binding request, success response queued
  | 'response' // a response to one of our checks (full mode)
  | 'bad-request' // 400 queued (RFC 8489 §9.1.3: no USERNAME or no MESSAGE-INTEGRITY)
  | 'unauthorized' // 401 queued (unknown ufrag or integrity mismatch)
  | 'unknown-attribute' // 420 queued (RFC 8489 §6.3.1)
  | 'role-conflict' // 487 queued (RFC 8445 §7.3.1.1)
  | 'bad-fingerprint' // dropped silently: absent or wrong FINGERPRINT (RFC 8445 §7.3 requires it)
  | 'ignored' // an indication (keepalive), an unexpected response or method
  | 'malformed' // looked like STUN but did not decode
  | 'not-stun' // not STUN at all (RFC 7983 first byte): not ours
  | 'closed'; // the agent is closed

/** Counters, monotonically increasing (never reset). */
export interface IceAgentStats {
  /** Binding requests answered with a success response. */
  checksAnswered: number;
  /** Error responses sent (400/401/420/487). */
  errorsSent: number;
  /** Datagrams dropped without an answer (bad fingerprint, malformed, unexpected). */
  dropped: number;
  /** Transmits dropped because the outgoing queue was full. */
  transmitsDropped: number;
  /** Peer-reflexive remote candidates refused because `maxRemoteCandidates` was reached. */
  remoteCandidatesRefused: number;
  /** Connectivity checks sent (full mode). */
  checksSent: number;
}

/** The transport 5-tuple half a pair sends on (for drivers with several sockets). */
export interface PairAddresses {
  source: SocketAddress;
  destination: SocketAddress;
}
