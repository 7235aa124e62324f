import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { addressKey, sameAddress } from './address.ts';
import { StunClient } from './client.ts';
import type { ClientInputVerdict, FailureReason, StunClientOptions } from './client-types.ts';
import type { Credentials } from './credentials.ts';
import { type Timer, TimerQueue } from './timer-queue.ts';

export interface BindingDiscoveryOptions {
  /** STUN servers to ask. */
  servers: readonly SocketAddress[];
  /**
   * Time between refreshes of a server that answered, ms. The refresh doubles as a keepalive
   * for the NAT binding (RFC 8489 §13 leaves the period to the usage; many NATs expire idle
   * UDP bindings after 30 s, hence the 25 s default).
   */
  interval?: number;
  /** Time before asking a server again after it failed, ms. Default 5 000. */
  retryInterval?: number;
  /** Local address to send from (`Transmit.source`). */
  source?: SocketAddress;
  /** Credentials for the servers (e.g. a TURN server's long-term ones). */
  credentials?: Credentials;
  /** Options of the underlying {@link StunClient} (random source, RTO, software…). */
  client?: StunClientOptions;
}

export type BindingDiscoveryEvent =
  /** A server reported a mapped address for the first time, or a different one than before. */
  | {
      type: 'mapping';
      server: SocketAddress;
      address: SocketAddress;
      previous: SocketAddress | undefined;
      rtt: number;
    }
  /** A server stopped answering (or answered with an error); emitted on the transition only. */
  | { type: 'server-failed'; server: SocketAddress; reason: FailureReason | 'error-response'; detail: string }
  /** The public address (the one most servers agree on) changed; `undefined` when none is known. */
  | { type: 'public-address'; address: SocketAddress | undefined; previous: SocketAddress | undefined };

interface ServerState {
  readonly server: SocketAddress;
  mapped: SocketAddress | undefined;
  ok: boolean | undefined;
  inFlight: string | undefined;
  timer: Timer<ServerState> | undefined;
}

/**
 * "What is my public address according to these servers?" — asks every server, refreshes
 * periodically (which keeps the NAT binding alive), and reports when a mapping or the overall
 * public address changes. A machine wrapping one {@link StunClient}; start it with `start(now)`.
 */
export class BindingDiscovery implements Machine<BindingDiscoveryEvent> {
  /** The underlying client (stats, RTO state). */
  readonly client: StunClient;
  readonly #servers: ServerState[];
  readonly #byTx = new Map<string, ServerState>();
  readonly #timers = new TimerQueue<ServerState>();
  readonly #events: BindingDiscoveryEvent[] = [];
  readonly #interval: number;
  readonly #retry: number;
  readonly #source: SocketAddress | undefined;
  readonly #credentials: Credentials | undefined;
  #public: SocketAddress | undefined;
  #running = false;

  constructor(options: BindingDiscoveryOptions) {
    if (options.servers.length === 0) throw new RangeError('BindingDiscovery: at least one server');
    this.#interval = options.interval ?? 25_000;
    this.#retry = options.retryInterval ?? 5_000;
    if (!(this.#interval > 0) || !(this.#retry > 0))
      throw new RangeError('BindingDiscovery: intervals must be > 0');
    this.client = new StunClient(options.client);
    this.#source = options.source;
    this.#credentials = options.credentials;
    this.#servers = options.servers.map((server) => ({
      server,
      mapped: undefined,
      ok: undefined,
      inFlight: undefined,
      timer: undefined,
    }));
  }

  /** Asks every server now, then keeps refreshing. */
  start(now: number): void {
    this.#running = true;
    for (const s of this.#servers) if (s.inFlight === undefined) this.#ask(s, now);
  }

  /** Stops refreshing and abandons outstanding requests. */
  stop(now: number): void {
    this.#running = false;
    for (const s of this.#servers) {
      if (s.timer) s.timer.cancelled = true;
      if (s.inFlight !== undefined) this.client.cancel(s.inFlight, now);
      s.inFlight = undefined;
    }
    this.#byTx.clear();
  }

  /** The address most servers currently agree on (ties: the earlier server in the list). */
  get publicAddress(): SocketAddress | undefined {
    return this.#public;
  }

  /** The latest mapped address per server. */
  mappings(): { server: SocketAddress; address: SocketAddress | undefined; ok: boolean | undefined }[] {
    return this.#servers.map((s) => ({ server: s.server, address: s.mapped, ok: s.ok }));
  }

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): ClientInputVerdict {
    const v = this.client.handleInput(payload, from, now, to);
    this.#pump(now);
    return v;
  }

  pollTransmit(): Transmit | undefined {
    return this.client.pollTransmit();
  }

  pollTimeout(): number | undefined {
    const a = this.client.pollTimeout();
    const b = this.#timers.next();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  handleTimeout(now: number): void {
    for (let t = this.#timers.popDue(now); t !== undefined; t = this.#timers.popDue(now)) {
      if (this.#running && t.item.inFlight === undefined) this.#ask(t.item, now);
    }
    this.client.handleTimeout(now);
    this.#pump(now);
  }

  pollEvent(): BindingDiscoveryEvent | undefined {
    return this.#events.shift();
  }

  #ask(s: ServerState, now: number): void {
    const id = this.client.request(s.server, now, {
      ...(this.#source === undefined ? {} : { source: this.#source }),
      ...(this.#credentials === undefined ? {} : { credentials: this.#credentials }),
    });
    s.inFlight = id;
    this.#byTx.set(id, s);
  }

  #pump(now: number): void {
    for (let e = this.client.pollEvent(); e !== undefined; e = this.client.pollEvent()) {
      const s = this.#byTx.get(e.transactionId);
      if (s === undefined) continue;
      this.#byTx.delete(e.transactionId);
      s.inFlight = undefined;
      if (e.type === 'success' && e.mappedAddress !== undefined) {
        const previous = s.mapped;
        s.mapped = e.mappedAddress;
        s.ok = true;
        if (previous === undefined || !sameAddress(previous, e.mappedAddress)) {
          this.#events.push({
            type: 'mapping',
            server: s.server,
            address: e.mappedAddress,
            previous,
            rtt: e.rtt,
          });
        }
        this.#schedule(s, now + this.#interval);
      } else {
        const wasOk = s.ok;
        s.ok = false;
        s.mapped = undefined;
        if (wasOk !== false) {
          const reason = e.type === 'failure' ? e.reason : 'error-response';
          const detail =
            e.type === 'failure'
              ? e.detail
              : e.type === 'error-response'
                ? `${e.code} ${e.reason}`
                : 'no address';
          this.#events.push({ type: 'server-failed', server: s.server, reason, detail });
        }
        this.#schedule(s, now + this.#retry);
      }
      this.#updatePublic();
    }
  }

  #schedule(s: ServerState, at: number): void {
    if (s.timer) s.timer.cancelled = true;
    s.timer = this.#running ? this.#timers.arm(at, s) : undefined;
  }

  #updatePublic(): void {
    const votes = new Map<string, { address: SocketAddress; n: number; first: number }>();
    this.#servers.forEach((s, i) => {
      if (s.mapped === undefined) return;
      const k = addressKey(s.mapped);
      const v = votes.get(k);
      if (v) v.n++;
      else votes.set(k, { address: s.mapped, n: 1, first: i });
    });
    let best: { address: SocketAddress; n: number; first: number } | undefined;
    for (const v of votes.values())
      if (!best || v.n > best.n || (v.n === best.n && v.first < best.first)) best = v;
    const next = best?.address;
    const prev = this.#public;
    const same = next === undefined ? prev === undefined : prev !== undefined && sameAddress(prev, next);
    if (!same) {
      this.#public = next;
      this.#events.push({ type: 'public-address', address: next, previous: prev });
    }
  }
}
