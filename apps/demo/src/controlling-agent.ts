import type { Candidate, IceCredentials, IceEvent, IceState } from '@natkit/ice-lite';
import { hostCandidate } from '@natkit/ice-lite';
import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import { StunClient, type StunClientEvent } from '@natkit/stun-agent';

/**
 * The stand-in remote's side of a session: a controlling agent with ONE candidate pair
 * (host ↔ the peer's host candidate), built from a StunClient — a StunClient transaction per
 * connectivity check, as design.md draws it. RFC 8445 regular nomination (§8.1.1): a check
 * without USE-CANDIDATE, then the same pair again with it; after that, consent freshness
 * checks every 4–6 s (RFC 7675 §5.1). It is the demo's "remote" only; ice-lite's full agent is
 * the general one.
 */
export interface ControllingAgentOptions {
  local: IceCredentials;
  remote: IceCredentials;
  /** Our host address (the remote process's socket). */
  localAddress: SocketAddress;
  /** The peer's candidate. */
  remoteCandidate: Candidate;
  random: RandomSource;
}

export interface ControllingStats {
  checksSent: number;
  retransmits: number;
  /** RTT of the last successful check, ms. */
  rtt: number | undefined;
}

/** RFC 8445 §5.1.2.1 priority of a peer-reflexive candidate of ours (what PRIORITY carries). */
const PRFLX_PRIORITY = 110 * 16777216 + 65535 * 256 + 255;

export class ControllingAgent implements Machine<IceEvent> {
  readonly mode = 'full' as const;
  #checksSent = 0;
  #rtt: number | undefined;
  readonly #client: StunClient;
  readonly #opts: ControllingAgentOptions;
  readonly #tieBreaker: bigint;
  readonly #local: Candidate;
  #state: IceState = 'new';
  #events: IceEvent[] = [];
  /** Transaction id → whether it nominated. */
  readonly #checks = new Map<string, boolean>();
  #nextConsent: number | undefined;

  constructor(options: ControllingAgentOptions) {
    this.#opts = options;
    this.#client = new StunClient({ random: options.random, rto: 100, minRto: 100 });
    const tb = new Uint8Array(8);
    options.random(tb);
    this.#tieBreaker = new DataView(tb.buffer).getBigUint64(0);
    this.#local = hostCandidate(options.localAddress);
  }

  get stats(): ControllingStats {
    return { checksSent: this.#checksSent, retransmits: this.#client.stats.retransmits, rtt: this.#rtt };
  }

  get state(): IceState {
    return this.#state;
  }

  /** Sends the first check (RFC 8445 §6.1.4: the pair is Waiting → In-Progress). */
  start(now: number): void {
    if (this.#state !== 'new') return;
    this.#setState('checking');
    this.#check(now, false);
  }

  close(): void {
    this.#nextConsent = undefined;
    for (const id of this.#checks.keys()) this.#client.cancel(id, 0);
    this.#checks.clear();
    this.#setState('closed');
  }

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): unknown {
    if (this.#state === 'closed') return 'closed';
    const verdict = this.#client.handleInput(payload, from, now, to);
    this.#drain(now);
    return verdict;
  }

  pollTransmit(): Transmit | undefined {
    return this.#client.pollTransmit();
  }

  pollTimeout(): number | undefined {
    const a = this.#client.pollTimeout();
    const b = this.#nextConsent;
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  handleTimeout(now: number): void {
    this.#client.handleTimeout(now);
    if (this.#nextConsent !== undefined && this.#nextConsent <= now) {
      this.#nextConsent = undefined;
      this.#check(now, false, 1);
    }
    this.#drain(now);
  }

  pollEvent(): IceEvent | undefined {
    return this.#events.shift();
  }

  #check(now: number, nominate: boolean, rc?: number): void {
    const { local, remote, remoteCandidate } = this.#opts;
    const id = this.#client.request(remoteCandidate.address, now, {
      credentials: { type: 'short-term', username: `${remote.ufrag}:${local.ufrag}`, password: remote.pwd },
      build: (b) => {
        b.addPriority(PRFLX_PRIORITY).addIceControlling(this.#tieBreaker);
        if (nominate) b.addUseCandidate();
      },
      ...(rc === undefined ? {} : { rc }),
    });
    this.#checks.set(id, nominate);
    this.#checksSent++;
  }

  #drain(now: number): void {
    for (let e = this.#client.pollEvent(); e !== undefined; e = this.#client.pollEvent())
      this.#onClientEvent(e, now);
  }

  #onClientEvent(e: StunClientEvent, now: number): void {
    const nominating = this.#checks.get(e.transactionId);
    this.#checks.delete(e.transactionId);
    if (nominating === undefined || this.#state === 'closed') return;
    switch (e.type) {
      case 'success':
        this.#rtt = e.rtt;
        if (this.#state === 'checking' && !nominating) {
          this.#check(now, true);
        } else if (this.#state === 'checking' && nominating) {
          this.#events.push({
            type: 'selected-pair',
            local: this.#local,
            remote: this.#opts.remoteCandidate,
          });
          this.#setState('connected');
        }
        if (this.#state === 'connected') this.#nextConsent = now + 4000 + Math.floor(this.#jitter() * 2000);
        break;
      case 'error-response':
      case 'failure':
        this.#setState('failed');
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  #jitter(): number {
    const b = new Uint8Array(1);
    this.#opts.random(b);
    return b[0]! / 256;
  }

  #setState(state: IceState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.push({ type: 'state', state });
  }
}
