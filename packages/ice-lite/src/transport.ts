/** One ICE agent and the application data on its selected pair, on one socket (RFC 8445 §12). */
import { Fifo, type Machine, type SocketAddress, type Transmit } from '@natkit/sans-io';
import type { IceAgent } from './agent.ts';
import { sameAddress } from './candidate.ts';
import type { IceEvent, InputVerdict } from './types.ts';

/** Events of an {@link IceTransport}: the agent's, plus application datagrams. */
export type IceTransportEvent =
  | IceEvent
  /** A datagram from one of the peer's candidates that is not STUN (a copy). */
  | { type: 'data'; payload: Uint8Array; from: SocketAddress };

/**
 * What {@link IceTransport.handleInput} did: the agent's verdict for STUN, `data` for an
 * application datagram delivered, `data-dropped` for one dropped (not from one of the peer's
 * candidates, or the event queue full).
 */
export type IceTransportVerdict = Exclude<InputVerdict, 'not-stun'> | 'data' | 'data-dropped';

export interface IceTransportOptions {
  /**
   * Called with each application datagram during `handleInput`, as a view valid only during
   * the call (no copy: the driver owns the bytes). Without it, datagrams are queued as `data`
   * events, each a copy.
   */
  onData?: (payload: Uint8Array, from: SocketAddress) => void;
  /** Bound on queued `data` events (without `onData`); more are dropped and counted. Default 256. */
  maxQueuedData?: number;
  /** Bound on datagrams `send` queues before they are polled; more are refused. Default 256. */
  maxQueuedSends?: number;
}

/** Counters, monotonically increasing. */
export interface IceTransportStats {
  /** Application datagrams delivered (to `onData` or as events). */
  dataIn: number;
  /** Application datagrams dropped: not from an address among the agent's remote candidates. */
  dataUnexpected: number;
  /** Application datagrams dropped because the `data` event queue was full. */
  dataOverflow: number;
  /** Datagrams `send` queued. */
  dataOut: number;
  /** `send` calls refused: no selected pair, consent expired, or the send queue full. */
  sendsRefused: number;
  /**
   * Queued datagrams dropped before they went out: consent expired, the agent closed, or
   * another pair was selected in the meantime (RFC 7675 §5.1: no sending without consent).
   */
  sendsDropped: number;
}

/**
 * An {@link IceAgent} and the application data it carries, as one machine for one socket:
 * STUN goes to the agent; other datagrams (RFC 7983: DTLS, RTP, or anything the application
 * speaks) from the peer's candidates are the application's; `send` puts the application's
 * datagrams on the selected pair, from its base to the remote candidate (RFC 8445 §12.1), and
 * only while the agent has consent to send (RFC 7675 §5.1: `connected`, `completed` or
 * `disconnected`, which is consent not yet expired). For many sessions on one socket, see the
 * demo's multiplexer (`apps/demo/src/mux.ts`).
 *
 * Received data is accepted from any of the agent's remote candidates — signalled, or learned
 * from an authenticated check — also before this side has selected a pair: the peer may send
 * on a pair it found valid first (RFC 8445 §12). Datagrams from other addresses are dropped and
 * counted (`dataUnexpected`).
 */
export class IceTransport implements Machine<IceTransportEvent> {
  readonly agent: IceAgent;
  readonly stats: IceTransportStats = {
    dataIn: 0,
    dataUnexpected: 0,
    dataOverflow: 0,
    dataOut: 0,
    sendsRefused: 0,
    sendsDropped: 0,
  };
  readonly #onData: ((payload: Uint8Array, from: SocketAddress) => void) | undefined;
  readonly #maxData: number;
  readonly #maxSends: number;
  readonly #data = new Fifo<IceTransportEvent>();
  readonly #sends = new Fifo<Transmit>();

  constructor(agent: IceAgent, options: IceTransportOptions = {}) {
    this.agent = agent;
    this.#onData = options.onData;
    this.#maxData = options.maxQueuedData ?? 256;
    this.#maxSends = options.maxQueuedSends ?? 256;
    if (!(this.#maxData >= 0) || !(this.#maxSends >= 0)) throw new RangeError('queue bounds must be >= 0');
  }

  /**
   * Whether `send` would be accepted now: a pair is selected and consent has not expired
   * (RFC 7675 §5.1; `disconnected` is our early warning, not expiry).
   */
  get canSend(): boolean {
    const state = this.agent.state;
    return (
      this.agent.selectedPair !== undefined &&
      (state === 'connected' || state === 'completed' || state === 'disconnected')
    );
  }

  /**
   * Queues `payload` for the selected pair. Returns false (and counts it) when {@link canSend}
   * is false or the queue is full. `payload` is not copied: leave it unchanged until it has
   * been polled (drivers poll right after the call that queued it).
   */
  send(payload: Uint8Array): boolean {
    const pair = this.agent.selectedPair;
    if (pair === undefined || !this.canSend || this.#sends.size >= this.#maxSends) {
      this.stats.sendsRefused++;
      return false;
    }
    this.#sends.push({ source: pair.local.address, destination: pair.remote.address, payload });
    this.stats.dataOut++;
    return true;
  }

  handleInput(
    payload: Uint8Array,
    from: SocketAddress,
    now: number,
    to?: SocketAddress,
  ): IceTransportVerdict {
    const verdict = this.agent.handleInput(payload, from, now, to);
    if (verdict !== 'not-stun') return verdict;
    if (!this.#fromPeer(from)) {
      this.stats.dataUnexpected++;
      return 'data-dropped';
    }
    if (this.#onData !== undefined) {
      this.stats.dataIn++;
      this.#onData(payload, from);
      return 'data';
    }
    if (this.#data.size >= this.#maxData) {
      this.stats.dataOverflow++;
      return 'data-dropped';
    }
    this.stats.dataIn++;
    this.#data.push({ type: 'data', payload: payload.slice(), from });
    return 'data';
  }

  /** Whether `from` is one of the peer's candidates: the selected one first (the usual case). */
  #fromPeer(from: SocketAddress): boolean {
    const pair = this.agent.selectedPair;
    if (pair !== undefined && sameAddress(pair.remote.address, from)) return true;
    for (const c of this.agent.remoteCandidates) if (sameAddress(c.address, from)) return true;
    return false;
  }

  /**
   * The agent's STUN first (consent answers are time-critical), then queued application data —
   * each only if it may still go: consent holds and its pair is still the selected one.
   */
  pollTransmit(): Transmit | undefined {
    const stun = this.agent.pollTransmit();
    if (stun !== undefined) return stun;
    for (let t = this.#sends.shift(); t !== undefined; t = this.#sends.shift()) {
      const pair = this.agent.selectedPair;
      if (pair !== undefined && this.canSend && sameAddress(pair.remote.address, t.destination)) return t;
      this.stats.sendsDropped++;
    }
    return undefined;
  }

  pollTimeout(): number | undefined {
    return this.agent.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.agent.handleTimeout(now);
  }

  /** The agent's events first, so a `state` or `selected-pair` change precedes later data. */
  pollEvent(): IceTransportEvent | undefined {
    return this.agent.pollEvent() ?? this.#data.shift();
  }
}
