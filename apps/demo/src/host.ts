import {
  type Candidate,
  generateCredentials,
  IceAgent,
  type IceCredentials,
  type IceEvent,
  IceRouter,
  type IceState,
} from '@natkit/ice-lite';
import type { RandomSource, SocketAddress } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { type Child, Mux, type MuxOptions, type Session } from './mux.ts';
import { streamSsrc } from './rtp.ts';

/**
 * Everything one natkit process runs behind its one socket, as plain sans-IO objects:
 * a {@link Mux} with a StunServer (Binding for anyone), a StunClient (public-address
 * discovery) and one ICE agent per session. No I/O here: a driver runs `host.mux`, and the
 * caller wraps each method call in the driver's `update` so the output is flushed.
 */
export type HostEvent =
  | { type: 'mapped-address'; server: SocketAddress; mapped: SocketAddress; rtt: number }
  | { type: 'discovery-failed'; server: SocketAddress; reason: string }
  | { type: 'session-state'; id: string; state: IceState }
  | { type: 'session-selected'; id: string; local: SocketAddress; remote: SocketAddress };

export interface HostOptions {
  /** Our socket's address: the host candidate of every session (settable once bound). */
  localAddress?: SocketAddress;
  random?: RandomSource;
  software?: string;
  onEvent?: (event: HostEvent) => void;
  /** Count each session's outbound checks, retransmissions and RTTs in the Mux (`mux.ufragStats`). */
  perUfragStats?: boolean;
  /** Application data of a connected session (a view valid during the call). */
  onData?: (session: IceSession, payload: Uint8Array) => void;
}

/** A session: one ICE agent and, once connected, the remote address its data comes from. */
export interface IceSession {
  readonly id: string;
  readonly mode: 'lite' | 'full';
  readonly local: IceCredentials;
  readonly remote: IceCredentials | undefined;
  readonly candidate: Candidate;
  /**
   * The RTP SSRC of this session's application data (both directions), which tells sessions
   * apart when several share one remote address (RFC 3550 §8; SDP `a=ssrc`, RFC 5576).
   */
  readonly ssrc: number;
  readonly createdAt: number;
  state: IceState;
  connectedAt: number | undefined;
  selected: { local: SocketAddress; remote: SocketAddress } | undefined;
  data: Session | undefined;
  readonly agent: IceAgent;
}

export interface CreateSessionOptions {
  mode: 'lite' | 'full';
  /** The peer's credentials (required for `full`). */
  remote?: IceCredentials;
  /** The peer's candidates (required for `full`: the first is checked). */
  remoteCandidates?: readonly Candidate[];
  /** Our credentials; generated when absent. */
  local?: IceCredentials;
  /** The session's RTP SSRC; random when absent. */
  ssrc?: number;
  /** The session's id (e.g. for a URL); default our ufrag. */
  id?: string;
}

const cryptoRandom: RandomSource = (b) => {
  crypto.getRandomValues(b as Uint8Array<ArrayBuffer>);
};

export class NatHost {
  readonly mux: Mux;
  readonly server: Child<StunServer>;
  readonly client: Child<StunClient>;
  /** ice-lite's router: every lite agent, behind one mux child (the default ICE route). */
  readonly router: Child<IceRouter>;
  /** Our socket's address, the host candidate of new sessions: set it once the socket is bound. */
  localAddress: SocketAddress;
  /** The first address a STUN server saw us at. */
  publicAddress: SocketAddress | undefined;
  readonly #sessions = new Map<string, IceSession>();
  readonly #bySsrc = new Map<number, IceSession>();
  readonly #byAgent = new Map<IceAgent, IceSession>();
  readonly #discovery = new Map<string, SocketAddress>();
  readonly #random: RandomSource;
  readonly #onEvent: (event: HostEvent) => void;
  readonly #onData: ((session: IceSession, payload: Uint8Array) => void) | undefined;
  #closedSessions = 0;

  constructor(options: HostOptions) {
    this.localAddress = options.localAddress ?? { address: '0.0.0.0', port: 0, family: 'IPv4' };
    this.#random = options.random ?? cryptoRandom;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#onData = options.onData;
    const muxOptions: MuxOptions = {
      perUfragStats: options.perUfragStats ?? false,
      // Sessions sharing a remote address (one peer socket for all of them): tell by the SSRC
      // of the RTP or RTCP packet (each at its own offset, RFC 5761 §4).
      pickSession: (_shared, payload, kind) => {
        if (kind !== 'rtp') return undefined;
        const ssrc = streamSsrc(payload);
        return ssrc === undefined ? undefined : this.#bySsrc.get(ssrc)?.data;
      },
      onData: (s, payload) => {
        const session = this.#sessions.get(s.id);
        if (session !== undefined) this.#onData?.(session, payload);
      },
    };
    this.mux = new Mux(muxOptions);
    this.server = this.mux.add(
      new StunServer(options.software === undefined ? {} : { software: options.software }),
      { role: 'stun-server', name: 'stun-server' },
    );
    this.router = this.mux.add(new IceRouter(), {
      role: 'ice',
      name: 'ice-router',
      onEvent: (e) => {
        const session = this.#byAgent.get(e.agent);
        if (session !== undefined) this.#onIceEvent(session, e.event);
      },
    });
    this.client = this.mux.add(new StunClient({ random: this.#random }), {
      role: 'client',
      name: 'discovery',
      onEvent: (e) => this.#onClientEvent(e),
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get closedSessions(): number {
    return this.#closedSessions;
  }

  sessions(): IterableIterator<IceSession> {
    return this.#sessions.values();
  }

  session(id: string): IceSession | undefined {
    return this.#sessions.get(id);
  }

  /** Asks each STUN server for our reflexive address (RFC 8489 Binding). */
  discover(servers: readonly SocketAddress[], now: number): void {
    this.mux.update(
      this.client,
      (c) => {
        for (const s of servers) this.#discovery.set(c.request(s, now), s);
      },
      now,
    );
  }

  /** A new ICE session with a host candidate on our one socket. */
  createSession(options: CreateSessionOptions, now: number): IceSession {
    const local = options.local ?? generateCredentials(this.#random);
    const id = options.id ?? local.ufrag;
    if (this.#sessions.has(id)) throw new Error(`session ${id} exists`);
    if (
      options.mode === 'full' &&
      (options.remote === undefined || (options.remoteCandidates ?? []).length === 0)
    ) {
      throw new Error('a full session needs the remote credentials and candidates');
    }
    // Full agents control (RFC 8445 §6.1.1: the initiator controls; always against a lite peer).
    const agent = new IceAgent(
      options.mode === 'lite'
        ? { mode: 'lite', credentials: local, random: this.#random }
        : { mode: 'full', role: 'controlling', credentials: local, random: this.#random },
    );
    const candidate = agent.addLocalCandidate(this.localAddress);
    if (options.remote !== undefined) agent.setRemoteCredentials(options.remote);
    for (const c of options.remoteCandidates ?? []) agent.addRemoteCandidate(c);
    if (options.mode === 'full') agent.endOfRemoteCandidates();
    let ssrc = options.ssrc;
    if (ssrc === undefined) {
      const b = new Uint8Array(4);
      do {
        this.#random(b);
        ssrc = new DataView(b.buffer).getUint32(0);
      } while (this.#bySsrc.has(ssrc));
    }
    const session: IceSession = {
      ssrc,
      id,
      mode: options.mode,
      local,
      remote: options.remote,
      candidate,
      createdAt: now,
      state: 'new',
      connectedAt: undefined,
      selected: undefined,
      data: undefined,
      agent,
    };
    this.#sessions.set(id, session);
    this.#bySsrc.set(ssrc, session);
    // Every agent lives in ice-lite's router: one mux child for all of them, routed by ufrag
    // (checks) and transaction ID (responses to a full agent's checks).
    this.#byAgent.set(agent, session);
    this.mux.update(this.router, (r) => r.add(agent), now);
    return session;
  }

  /** Ends a session: agent closed, routes and data binding removed. */
  closeSession(id: string, now: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined) return false;
    const agent = s.agent;
    this.mux.update(
      this.router,
      (r) => {
        agent.close();
        r.update(agent); // collect the `closed` event
        r.remove(agent);
      },
      now,
    );
    this.#byAgent.delete(agent);
    this.mux.forgetUfrag(s.local.ufrag);
    this.mux.unbindSession(id);
    this.#sessions.delete(id);
    if (this.#bySsrc.get(s.ssrc) === s) this.#bySsrc.delete(s.ssrc);
    this.#closedSessions++;
    return true;
  }

  /** The peer's credentials and candidates, once its answer arrives (lite sessions). */
  setRemote(
    session: IceSession,
    remote: IceCredentials,
    candidates: readonly Candidate[],
    now: number,
  ): void {
    const agent = session.agent;
    (session as { remote: IceCredentials | undefined }).remote = remote;
    this.mux.update(
      this.router,
      (r) => {
        agent.setRemoteCredentials(remote);
        for (const c of candidates) agent.addRemoteCandidate(c);
        r.update(agent);
      },
      now,
    );
  }

  /** Sends application data over a connected session's selected pair. */
  send(session: IceSession, payload: Uint8Array): boolean {
    return session.data !== undefined && this.mux.send(session.data, payload);
  }

  #onIceEvent(s: IceSession, e: IceEvent): void {
    switch (e.type) {
      case 'state':
        s.state = e.state;
        if ((e.state === 'connected' || e.state === 'completed') && s.connectedAt === undefined) {
          s.connectedAt = this.#lastNow();
        }
        if (e.state === 'failed' || e.state === 'closed') {
          this.mux.unbindSession(s.id);
          s.data = undefined;
        }
        this.#onEvent({ type: 'session-state', id: s.id, state: e.state });
        break;
      case 'selected-pair':
        s.selected = { local: e.local.address, remote: e.remote.address };
        s.data = this.mux.bindSession(s.id, e.remote.address, this.router);
        this.#onEvent({
          type: 'session-selected',
          id: s.id,
          local: e.local.address,
          remote: e.remote.address,
        });
        break;
      case 'remote-candidate':
      case 'local-candidate':
      case 'gathering-complete':
      case 'role':
      case 'restart-complete':
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  #onClientEvent(e: StunClientEvent): void {
    const server = this.#discovery.get(e.transactionId);
    if (server === undefined) return;
    this.#discovery.delete(e.transactionId);
    switch (e.type) {
      case 'success':
        if (e.mappedAddress === undefined) {
          this.#onEvent({
            type: 'discovery-failed',
            server,
            reason: 'no XOR-MAPPED-ADDRESS in the response',
          });
          return;
        }
        this.publicAddress ??= e.mappedAddress;
        this.#onEvent({ type: 'mapped-address', server, mapped: e.mappedAddress, rtt: e.rtt });
        break;
      case 'error-response':
        this.#onEvent({ type: 'discovery-failed', server, reason: `${e.code} ${e.reason}` });
        break;
      case 'failure':
        this.#onEvent({ type: 'discovery-failed', server, reason: `${e.reason}: ${e.detail}` });
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  /** The latest `now` the host saw (events carry no time of their own). */
  #lastNow(): number {
    return this.mux.now;
  }
}
