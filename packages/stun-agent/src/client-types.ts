import type { RandomSource, SocketAddress } from '@natkit/sans-io';
import type { MessageBuilder, StunMessage } from '@natkit/stun-codec';
import type { Credentials } from './credentials.ts';

/** Options of a {@link StunClient}. Every field is optional; defaults follow RFC 8489. */
export interface StunClientOptions {
  /** Source of transaction IDs. Default: {@link defaultRandom} (`crypto.getRandomValues`). */
  random?: RandomSource;
  /** `udp` retransmits (§6.2.1); `reliable` (TCP/TLS) sends once and waits Ti (§6.2.2). Default `udp`. */
  transport?: 'udp' | 'reliable';
  /** Initial RTO in ms, used until an RTT is measured. Default 500. */
  rto?: number;
  /** Floor for any computed RTO, ms. Default 500 (RFC 8445 §14.3 never goes below). */
  minRto?: number;
  /**
   * Ceiling for a learned or retained RTO, ms. Default 60 000, the least RFC 6298 §2.5 allows.
   * A transaction lasts up to (2^(Rc−1) − 1 + Rm) × its starting RTO (79 × RTO with the
   * defaults), so a lower ceiling also bounds how long a request to a slow server can take.
   */
  maxRto?: number;
  /** Total sends over UDP (Rc). Default 7. */
  rc?: number;
  /** Final wait after the last send, as a multiple of the initial RTO (Rm). Default 16. */
  rm?: number;
  /** Timeout over reliable transports (Ti), ms. Default 39 500. */
  ti?: number;
  /** How long a destination's RTO is remembered without traffic, ms. Default 600 000 (10 min). */
  rtoCacheTtl?: number;
  /** At most this many transactions in flight per destination; the rest queue. Default 10. */
  maxOutstanding?: number;
  /** Default credentials for every request. Default none. */
  credentials?: Credentials;
  /**
   * SOFTWARE attribute for every request (RFC 8489 §6.1 SHOULD); fewer than 128 characters
   * (§14.14), else the constructor throws a RangeError. Default: none.
   */
  software?: string;
  /** Add FINGERPRINT to every request. Default true. */
  fingerprint?: boolean;
  /** Follow a 300 Try Alternate's ALTERNATE-SERVER (once per request). Default true. */
  followAlternate?: boolean;
  /** Bounds of the output queues; overflow is dropped and counted. Default 4096 each. */
  maxQueuedTransmits?: number;
  maxQueuedEvents?: number;
}

/** A raw attribute to append to a request. */
export interface ExtraAttribute {
  type: number;
  value: Uint8Array;
}

/** Per-request options of {@link StunClient.request} / {@link StunClient.indicate}. */
export interface RequestOptions {
  /** STUN method. Default Binding (0x001). */
  method?: number;
  /** Raw attributes, appended in order before the credential attributes. */
  attributes?: readonly ExtraAttribute[];
  /**
   * Adds attributes through the codec's typed builder (`b.addPriority(p).addUseCandidate()`).
   * Called after `attributes`, and again for every new transaction of this request (a 401 retry).
   */
  build?: (b: MessageBuilder) => void;
  /** Credentials for this request, overriding the client's. */
  credentials?: Credentials;
  /** Local address to send from (becomes `Transmit.source`). */
  source?: SocketAddress;
  /** Initial RTO for this request (e.g. ICE's `max(500, Ta·N)`), overriding the learned one. */
  rto?: number;
  /** Total sends (Rc) for this request, e.g. 1 for a consent-freshness check (RFC 7675). */
  rc?: number;
  /** Final wait multiple (Rm) for this request. */
  rm?: number;
  /** Add FINGERPRINT (overrides the client default). */
  fingerprint?: boolean;
}

/** Why a transaction failed without an error response to show for it. */
export type FailureReason =
  /** No (authentic) response within the retransmission schedule. */
  | 'timeout'
  /** Responses arrived but none passed integrity (RFC 8489 §9.1.5: report instead of timeout). */
  | 'integrity'
  /** Long-term credentials were rejected (wrong password, bid-down, no supported algorithm, loop). */
  | 'auth'
  /** The response was unusable (unknown comprehension-required attribute, no ERROR-CODE…). */
  | 'malformed'
  /** A 300 redirected to a server already tried for this request. */
  | 'redirect-loop';

interface EventBase {
  /** The id {@link StunClient.request} returned. */
  transactionId: string;
  /** Where the request went (after any ALTERNATE-SERVER redirect). */
  destination: SocketAddress;
}

/** Events of a {@link StunClient}. Every request ends with exactly one of them (unless cancelled). */
export type StunClientEvent =
  | (EventBase & {
      type: 'success';
      /** The decoded, verified success response (owns its bytes). */
      response: StunMessage;
      /** XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS (classic servers), when present. */
      mappedAddress: SocketAddress | undefined;
      /** Time from the first send of the answered STUN transaction to the response, ms. */
      rtt: number;
      /** Retransmissions of the answered STUN transaction. */
      retransmits: number;
      /** The local address the response arrived on, when the driver said. */
      localAddress: SocketAddress | undefined;
    })
  | (EventBase & {
      type: 'error-response';
      code: number;
      reason: string;
      response: StunMessage;
    })
  | (EventBase & { type: 'failure'; reason: FailureReason; detail: string });

/** What {@link StunClient.handleInput} did with a datagram (drivers ignore it; parents may route on it). */
export type ClientInputVerdict =
  | 'accepted'
  | 'not-stun'
  | 'malformed'
  | 'not-response'
  | 'unknown-transaction'
  | 'wrong-source'
  | 'bad-fingerprint'
  | 'unauthenticated';

/** Counters of a {@link StunClient}. */
export interface StunClientStats {
  requests: number;
  indications: number;
  sends: number;
  retransmits: number;
  responses: number;
  notStun: number;
  malformed: number;
  notResponse: number;
  unknownTransaction: number;
  wrongSource: number;
  badFingerprint: number;
  unauthenticated: number;
  droppedTransmits: number;
  droppedEvents: number;
}

/** A snapshot of one live request. */
export interface TransactionInfo {
  state: 'queued' | 'in-flight';
  destination: SocketAddress;
  /** The current STUN transaction ID (changes on a 401/438 retry or a redirect). */
  stunTransactionId: Uint8Array | undefined;
  sends: number;
  retransmits: number;
  /** Initial RTO of the current STUN transaction (undefined while queued). */
  rto: number | undefined;
  firstSentAt: number | undefined;
}
