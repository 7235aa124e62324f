import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { Connection, Candidate as WeriftCandidate } from 'werift-ice';
import {
  type Candidate,
  formatCandidate,
  type IceAgent,
  type IceEvent,
  type InputVerdict,
  parseCandidate,
} from '../src/index.ts';

/**
 * Helpers for `werift.test.ts`: a werift-ice `Connection` (an independent ICE implementation, a
 * TypeScript port of aioice) confined to 127.0.0.1, candidate conversion through each side's
 * own SDP code, and a thin application socket around an {@link IceAgent}.
 */

/**
 * A werift agent whose only candidate is a host candidate on 127.0.0.1, bound to 127.0.0.1.
 *
 * werift gathers host addresses from `os.networkInterfaces()` and drops `internal` ones
 * (loopback), so `useIpv4`/`useIpv6` are off (no interface addresses at all) and 127.0.0.1 comes
 * in through `additionalHostAddresses`; `interfaceAddresses.udp4` makes its socket bind to
 * 127.0.0.1 rather than 0.0.0.0. Its `stunServer` defaults to stun.l.google.com:19302 even
 * when none is configured; clearing it keeps gathering off the network.
 */
export function weriftAgent(controlling: boolean): Connection {
  const connection = new Connection(controlling, {
    useIpv4: false,
    useIpv6: false,
    additionalHostAddresses: ['127.0.0.1'],
    interfaceAddresses: { udp4: '127.0.0.1' },
  });
  delete connection.stunServer;
  return connection;
}

/**
 * Ours → werift through the two SDP codecs: our `formatCandidate` line, parsed by werift's
 * `Candidate.fromSdp` (which takes the attribute value without the `candidate:` prefix).
 */
export function toWerift(candidate: Candidate): WeriftCandidate {
  const line = formatCandidate(candidate);
  if (!line.startsWith('candidate:')) throw new Error(`unexpected candidate line ${line}`);
  return WeriftCandidate.fromSdp(line.slice('candidate:'.length));
}

/** werift → ours: werift's `toSdp()` (no `candidate:` prefix), parsed by our `parseCandidate`. */
export function fromWerift(candidate: WeriftCandidate): Candidate {
  const result = parseCandidate(`candidate:${candidate.toSdp()}`);
  if (!result.ok) throw new Error(`parseCandidate refused werift's ${candidate.toSdp()}: ${result.reason}`);
  return result.candidate;
}

export const v4 = (address: string, port: number): SocketAddress => ({ address, port, family: 'IPv4' });

/** A non-STUN datagram that reached the application (RFC 7983: first byte outside 0–3). */
export interface DataEvent {
  type: 'data';
  payload: Uint8Array;
  from: SocketAddress;
}

export type AppEvent = IceEvent | DataEvent;

/**
 * What an application puts around an agent on its socket: STUN goes to the agent; what the
 * agent reports as `not-stun` is application data (there is no DTLS or RTP here to demultiplex
 * further, RFC 7983); application data goes out on the selected pair (RFC 8445 §12.1). Also
 * counts the agent's verdicts, so a test can see e.g. responses to its consent checks arrive.
 */
export class AppSocket implements Machine<AppEvent> {
  readonly agent: IceAgent;
  readonly verdicts = new Map<InputVerdict, number>();
  readonly #transmits: Transmit[] = [];
  readonly #events: DataEvent[] = [];

  constructor(agent: IceAgent) {
    this.agent = agent;
  }

  count(verdict: InputVerdict): number {
    return this.verdicts.get(verdict) ?? 0;
  }

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): void {
    const verdict = this.agent.handleInput(payload, from, now, to);
    this.verdicts.set(verdict, this.count(verdict) + 1);
    // The driver's view is over Node's receive buffer: keep a copy.
    if (verdict === 'not-stun') this.#events.push({ type: 'data', payload: payload.slice(), from });
  }

  /** Sends on the selected pair, from its local candidate's address to the remote one's. */
  send(payload: Uint8Array): void {
    const pair = this.agent.selectedPair;
    if (pair === undefined) throw new Error('no selected pair to send on');
    this.#transmits.push({ source: pair.local.address, destination: pair.remote.address, payload });
  }

  pollTransmit(): Transmit | undefined {
    return this.#transmits.shift() ?? this.agent.pollTransmit();
  }

  pollTimeout(): number | undefined {
    return this.agent.pollTimeout();
  }

  handleTimeout(now: number): void {
    this.agent.handleTimeout(now);
  }

  pollEvent(): AppEvent | undefined {
    return this.#events.shift() ?? this.agent.pollEvent();
  }
}

/** `promise`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once `condition()` holds, checked every `every` ms; rejects after `ms`. */
export function eventually(condition: () => boolean, ms: number, what: string, every = 20): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + ms;
    const tick = (): void => {
      if (condition()) resolve();
      else if (performance.now() >= deadline)
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(tick, every);
    };
    tick();
  });
}

/** The next datagram werift hands to `onData` (application data on its nominated pair). */
export function weriftData(connection: Connection): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const sub = connection.onData.subscribe((data) => {
      sub.unSubscribe();
      resolve(new Uint8Array(data));
    });
  });
}

/** Swallows the rejection of a promise that may be left pending when its source closes. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
