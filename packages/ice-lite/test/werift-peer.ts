import type { SocketAddress } from '@natkit/sans-io';
import { Connection, Candidate as WeriftCandidate } from 'werift-ice';
import {
  type Candidate,
  formatCandidate,
  IceTransport,
  type IceTransportEvent,
  type IceTransportVerdict,
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

/** What our side's socket reports: the agent's events and application datagrams. */
export type AppEvent = IceTransportEvent;
/** An application datagram (RFC 7983: first byte outside 0–3) from the selected pair's remote. */
export type DataEvent = Extract<IceTransportEvent, { type: 'data' }>;

/**
 * Our side's application socket: an {@link IceTransport} (STUN to the agent, other datagrams
 * from the selected pair's remote as `data` events, `send` on the selected pair) that also
 * counts the verdicts, so a test can see e.g. responses to its consent checks arrive.
 */
export class AppSocket extends IceTransport {
  readonly verdicts = new Map<IceTransportVerdict, number>();

  count(verdict: IceTransportVerdict): number {
    return this.verdicts.get(verdict) ?? 0;
  }

  override handleInput(
    payload: Uint8Array,
    from: SocketAddress,
    now: number,
    to?: SocketAddress,
  ): IceTransportVerdict {
    const verdict = super.handleInput(payload, from, now, to);
    this.verdicts.set(verdict, this.count(verdict) + 1);
    return verdict;
  }

  /** {@link IceTransport.send}, but a refusal is a test failure. */
  override send(payload: Uint8Array): boolean {
    if (!super.send(payload)) throw new Error('no selected pair with consent to send on');
    return true;
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
