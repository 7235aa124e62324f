/** One ICE agent and the application data on its selected pair, on one socket (RFC 8445 §12). */
import { Fifo, type Machine, type SocketAddress, type Transmit } from '@natkit/sans-io';
import type { IceAgent } from './agent.ts';
import { sameAddress } from './candidate.ts';
import type { IceEvent, InputVerdict } from './types.ts';

/** Events of an {@link IceTransport}: the agent's, plus application datagrams. */
export type IceTransportEvent =
  | IceEvent
  /** A datagram from the selected pair's remote address that is not STUN (a copy). */
  | { type: 'data'; payload: Uint8Array; from: SocketAddress };

/**
 * What {@link IceTransport.handleInput} did: the agent's verdict for STUN, `data` for an
 * application datagram delivered, `data-dropped` for one dropped (no selected pair, not from
 * its remote address, or the event queue full).
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
  /** Application datagrams dropped: before a pair was selected or not from its remote address. */
  dataUnexpected: number;
  /** Application datagrams dropped because the `data` event queue was full. */
  dataOverflow: number;
  /** Datagrams `send` queued. */
  dataOut: number;
  /** `send` calls refused: no selected pair, consent expired, or the send queue full. */
  sendsRefused: number;
}

/**
 * An {@link IceAgent} and the application data it carries, as one machine for one socket:
 * STUN goes to the agent; other datagrams (RFC 7983: DTLS, RTP, or anything the application
 * speaks) from the selected pair's remote address are the application's; `send` puts the
 * application's datagrams on the selected pair, from its base to the remote candidate
 * (RFC 8445 §12.1), and only while the agent has consent to send (RFC 7675 §5.1: `connected`,
 * `completed` or `disconnected`, which is consent not yet expired). For many sessions on one
 * socket, see the demo's multiplexer (`apps/demo/src/mux.ts`).
 *
 * Datagrams from any other address are dropped and counted (`dataUnexpected`): before
 * selection there is no path the application could answer on, and an address ICE never
 * checked has not consented to anything.
 */
export class IceTransport implements Machine<IceTransportEvent> {
  readonly agent: IceAgent;
  readonly stats: IceTransportStats = {
    dataIn: 0,
    dataUnexpected: 0,
    dataOverflow: 0,
    dataOut: 0,
    sendsRefused: 0,
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
    const pair = this.agent.selectedPair;
    if (pair === undefined || !sameAddress(pair.remote.address, from)) {
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

  /** The agent's STUN first (consent answers are time-critical), then queued application data. */
  pollTransmit(): Transmit | undefined {
    return this.agent.pollTransmit() ?? this.#sends.shift();
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
