import {
  type DeadlineEntry,
  DeadlineHeap,
  Fifo,
  type Machine,
  type SocketAddress,
  type Transmit,
} from '@natkit/sans-io';
import {
  ATTR_USERNAME,
  BINDING,
  CLASS_ERROR,
  CLASS_INDICATION,
  CLASS_REQUEST,
  CLASS_SUCCESS,
  classify,
  findAttribute,
  isStunFrame,
  type PacketClass,
  stunClass,
  stunMethod,
  transactionKey,
  usernameSenderUfrag,
  usernameUfrag,
} from './demux.ts';

/**
 * What a child does for the multiplexer:
 * - `stun-server`: answers STUN requests that carry no USERNAME (RFC 8489 Binding "for anyone");
 * - `ice`: receives STUN requests whose USERNAME names one of its ufrags (or every USERNAME'd
 *   request, for the one child registered without ufrags — e.g. an ICE router for many agents);
 * - `client`: only ever receives responses to requests it sent itself.
 */
export type ChildRole = 'stun-server' | 'ice' | 'client';

export interface ChildOptions<E> {
  role: ChildRole;
  /** For logs and stats. Default `<role>#<id>`. */
  name?: string;
  /** For `ice` children: the local ufrags it owns. Without any, the child is the default ICE route. */
  ufrags?: readonly string[];
  /**
   * Receives the child's events synchronously, as soon as the multiplexer has called into the
   * child. May call `bindSession`/`unbindSession`/`send` on the multiplexer. Without it the
   * events are queued as `{ type: 'child' }` mux events.
   */
  onEvent?: (event: E) => void;
}

/** A registered child; the handle `update`/`remove` take. */
export interface Child<M extends Machine<unknown> = Machine<unknown>> {
  readonly id: number;
  readonly name: string;
  readonly role: ChildRole;
  readonly machine: M;
}

/** Non-STUN traffic handed to the application (RFC 7983 classes other than STUN). */
export type DataKind = Exclude<PacketClass, 'stun' | 'unknown'>;

/** A remote transport address whose non-STUN datagrams belong to one application session. */
export interface Session {
  readonly id: string;
  readonly remote: SocketAddress;
  /** The ICE child the session belongs to, if any. */
  readonly child: Child | undefined;
  datagramsIn: number;
  bytesIn: number;
  datagramsOut: number;
  bytesOut: number;
}

export type MuxEvent =
  /** A child's event (children registered without `onEvent`). */
  | { type: 'child'; child: Child; event: unknown }
  /** A non-STUN datagram from a bound session (queued only when no `onData` callback is set; a copy). */
  | { type: 'data'; session: Session; kind: DataKind; payload: Uint8Array; from: SocketAddress };

/** Why a datagram or an output was dropped. Every one has a counter in {@link MuxStats}. */
export type DropReason =
  | 'empty'
  | 'unknown-first-byte'
  | 'stun-malformed'
  | 'stun-unmatched-response'
  | 'stun-no-route'
  | 'ice-unknown-ufrag'
  | 'stun-indication'
  | 'data-no-session'
  | 'transmit-overflow'
  | 'event-overflow';

export const DROP_REASONS: readonly DropReason[] = [
  'empty',
  'unknown-first-byte',
  'stun-malformed',
  'stun-unmatched-response',
  'stun-no-route',
  'ice-unknown-ufrag',
  'stun-indication',
  'data-no-session',
  'transmit-overflow',
  'event-overflow',
];

/** Where `handleInput` sent a datagram. */
export type Route = 'stun-server' | 'ice' | 'response' | 'data';

/** `handleInput`'s verdict: the route taken, or why the datagram was dropped. */
export type Verdict = Route | DropReason;

export interface MuxStats {
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams per RFC 7983 class, before routing. */
  classes: Record<PacketClass, number>;
  routed: Record<Route, number>;
  dropped: Record<DropReason, number>;
  transmitsOut: number;
  /** STUN requests children sent (first transmissions), their retransmissions, and first responses routed back. */
  requestsOut: number;
  retransmitsOut: number;
  responsesIn: number;
  /** `handleTimeout` calls into children. */
  childTimeouts: number;
  /**
   * Children that returned a deadline <= now right after `handleTimeout(now)` (kept at now + 1 ms,
   * also when the deadline is re-read later, e.g. while their output is pulled).
   */
  childBusyLoops: number;
  /** Children whose `pollTimeout()` returned something that is not a finite number (treated as none). */
  childBadTimeouts: number;
}

export interface MuxOptions {
  /**
   * Non-STUN datagrams from bound sessions, synchronously, as a view valid only during the
   * call (zero copy). Without it they are queued as `data` events holding a copy.
   */
  onData?: (session: Session, payload: Uint8Array, kind: DataKind, from: SocketAddress) => void;
  /**
   * Picks the session of a datagram when several sessions share its remote address; return
   * `undefined` to drop it (`data-no-session`). Default: the latest bound.
   */
  pickSession?: (sessions: readonly Session[], payload: Uint8Array, kind: DataKind) => Session | undefined;
  /**
   * How long an outstanding request's transaction ID keeps routing responses to its sender.
   * Default 64 s: beyond RFC 8489's 39.5 s (Rc = 7, Rm = 16, RTO 500 ms). Entries live between
   * one and two lifetimes (two generations swapped lazily; no timer, no scan).
   */
  transactionLifetime?: number;
  /**
   * Keep per-session counters of outbound checks (see {@link Mux.ufragStats}): the sender ufrag
   * is read from each outbound request's USERNAME. Default false (no per-request decoding).
   */
  perUfragStats?: boolean;
  /** Bound on datagrams the multiplexer queues itself (`send`, copies). Default 4096. */
  maxQueuedTransmits?: number;
  /** Bound on queued events. Default 4096. */
  maxQueuedEvents?: number;
}

/** Counters of the STUN transactions of one local ufrag (an ICE session's checks). */
export interface UfragStats {
  requests: number;
  retransmits: number;
  responses: number;
  /** RTT of the latest unretransmitted transaction, ms. */
  rttLast: number | undefined;
  rttSum: number;
  rttSamples: number;
}

/** An outbound request: who sent it (for the response), and what it measured. */
interface Transaction {
  readonly rec: ChildRecord;
  readonly tag: string | undefined;
  readonly sentAt: number;
  sends: number;
  answered: boolean;
}

interface ChildRecord extends DeadlineEntry, Child {
  onEvent: ((event: unknown) => void) | undefined;
  ufrags: readonly string[];
  /** The ufrags routed to this child (so removing it costs O(its routes)). */
  routes: Set<string>;
  /** In `#pendingTx`: may have transmits the multiplexer has not pulled yet. */
  txQueued: boolean;
  removed: boolean;
  /**
   * The `now` of our last `handleTimeout` call into this child. A deadline it reports at or
   * before this is the same work asking to run again: kept at `firedAt + 1` wherever the
   * deadline is re-read (after the call, or when its output is pulled), so no polling order
   * can bring the busy loop back.
   */
  firedAt: number;
}

interface SessionRecord extends Session {
  readonly rec: ChildRecord | undefined;
}

function zeroed<K extends string>(keys: readonly K[]): Record<K, number> {
  const r = {} as Record<K, number>;
  for (const k of keys) r[k] = 0;
  return r;
}

const CLASSES: readonly PacketClass[] = ['stun', 'zrtp', 'dtls', 'turn-channel', 'rtp', 'unknown'];
const ROUTES: readonly Route[] = ['stun-server', 'ice', 'response', 'data'];

/**
 * Many machines behind one socket, as one machine (so any driver runs it unchanged).
 *
 * Inbound (RFC 7983 first byte, then):
 * - STUN responses → the child that sent the request, by transaction ID (learnt from the
 *   child's own outbound requests as they pass through `pollTransmit`);
 * - STUN requests with USERNAME → the `ice` child owning the ufrag (or the default ICE route);
 * - other STUN requests → the `stun-server` child (and USERNAME'd ones too while no ICE child exists);
 * - DTLS / RTP / RTCP / ZRTP / TURN ChannelData from a bound session's remote → the application;
 * - everything else is dropped and counted per reason.
 *
 * Outbound: children's transmits are pulled lazily in `pollTransmit` and passed through
 * without copying (the driver sends each one before the next call into the multiplexer, which
 * is all the contract promises the child). Before calling into a child whose output has not
 * been pulled yet, the multiplexer copies that output aside, so a child may always reuse its buffer.
 *
 * Time: every child's `pollTimeout()` sits in one indexed binary heap; a datagram or a timeout
 * touches only the children involved, each at O(log n).
 */
export class Mux implements Machine<MuxEvent> {
  readonly #heap = new DeadlineHeap<ChildRecord>();
  readonly #children = new Set<ChildRecord>();
  #nextId = 1;
  #server: ChildRecord | undefined;
  #defaultIce: ChildRecord | undefined;
  readonly #ufragRoutes = new Map<string, ChildRecord>();

  // Transaction ID → owner, in two generations (see `transactionLifetime`).
  #txCurrent = new Map<string, Transaction>();
  #txPrevious = new Map<string, Transaction>();
  readonly #ufragStats: Map<string, UfragStats> | undefined;
  #txGenerationStart = Number.NEGATIVE_INFINITY;
  readonly #txLifetime: number;

  // Sessions by remote address, then port: no string built per data packet.
  readonly #sessionsByRemote = new Map<string, Map<number, SessionRecord[]>>();
  readonly #sessionsById = new Map<string, SessionRecord>();

  // Children that may have output, in the order they were touched.
  readonly #pendingTx = new Fifo<ChildRecord>();
  // Our own output (copies): `send`, and children's output set aside before re-entering them.
  readonly #queue = new Fifo<Transmit>();
  readonly #maxQueue: number;

  readonly #events = new Fifo<MuxEvent>();
  readonly #maxEvents: number;

  readonly #onData: MuxOptions['onData'];
  readonly #pickSession: MuxOptions['pickSession'];
  #now = 0;

  readonly stats: MuxStats = {
    datagramsIn: 0,
    bytesIn: 0,
    classes: zeroed(CLASSES),
    routed: zeroed(ROUTES),
    dropped: zeroed(DROP_REASONS),
    transmitsOut: 0,
    requestsOut: 0,
    retransmitsOut: 0,
    responsesIn: 0,
    childTimeouts: 0,
    childBusyLoops: 0,
    childBadTimeouts: 0,
  };

  constructor(options: MuxOptions = {}) {
    this.#onData = options.onData;
    this.#pickSession = options.pickSession;
    this.#ufragStats = options.perUfragStats === true ? new Map() : undefined;
    this.#txLifetime = options.transactionLifetime ?? 64_000;
    this.#maxQueue = options.maxQueuedTransmits ?? 4096;
    this.#maxEvents = options.maxQueuedEvents ?? 4096;
  }

  // ---------------------------------------------------------------- children

  /**
   * Adds a child. Its pending output, events and deadline are collected right away. `now`
   * (optional) is the current time, used to age transaction IDs.
   */
  add<M extends Machine<unknown>>(
    machine: M,
    options: ChildOptions<M extends Machine<infer E> ? E : never>,
    now?: number,
  ): Child<M> {
    const id = this.#nextId++;
    const rec: ChildRecord = {
      id,
      name: options.name ?? `${options.role}#${id}`,
      role: options.role,
      machine,
      onEvent: options.onEvent as ((event: unknown) => void) | undefined,
      ufrags: options.ufrags ?? [],
      routes: new Set(),
      txQueued: false,
      removed: false,
      deadline: 0,
      heapIndex: -1,
      firedAt: Number.NEGATIVE_INFINITY,
    };
    if (options.role === 'stun-server') {
      if (this.#server !== undefined) throw new Error('Mux: a stun-server child is already registered');
      this.#server = rec;
    } else if (options.role === 'ice') {
      if (rec.ufrags.length === 0) {
        if (this.#defaultIce !== undefined) throw new Error('Mux: a default ICE child is already registered');
        this.#defaultIce = rec;
      }
    }
    this.#children.add(rec);
    if (options.role === 'ice') for (const u of rec.ufrags) this.addRoute(u, rec);
    if (now !== undefined) this.#observe(now);
    this.#touch(rec);
    return rec as unknown as Child<M>;
  }

  /** Routes checks addressed to `ufrag` to `child` (an `ice` child). */
  addRoute(ufrag: string, child: Child): void {
    const rec = this.#rec(child);
    const owner = this.#ufragRoutes.get(ufrag);
    if (owner !== undefined && owner !== rec)
      throw new Error(`Mux: ufrag ${ufrag} already routed to ${owner.name}`);
    this.#ufragRoutes.set(ufrag, rec);
    rec.routes.add(ufrag);
  }

  removeRoute(ufrag: string): void {
    this.#ufragRoutes.get(ufrag)?.routes.delete(ufrag);
    this.#ufragRoutes.delete(ufrag);
  }

  /**
   * Removes a child: its deadline leaves the heap, its routes go, responses to its requests
   * are dropped from now on. Its output not yet pulled is discarded. Sessions bound to it stay
   * until `unbindSession`.
   */
  remove(child: Child): void {
    const rec = this.#rec(child);
    rec.removed = true;
    this.#heap.remove(rec);
    this.#children.delete(rec);
    if (this.#server === rec) this.#server = undefined;
    if (this.#defaultIce === rec) this.#defaultIce = undefined;
    for (const u of rec.routes) if (this.#ufragRoutes.get(u) === rec) this.#ufragRoutes.delete(u);
    rec.routes.clear();
  }

  /**
   * Calls into a child from the application (start a transaction, add an ICE session, ...),
   * then collects its output, events and new deadline. The driver must flush afterwards.
   */
  update<M extends Machine<unknown>, R>(child: Child<M>, fn: (machine: M) => R, now?: number): R {
    const rec = this.#rec(child);
    if (now !== undefined) this.#observe(now);
    this.#enter(rec);
    try {
      return fn(child.machine);
    } finally {
      this.#touch(rec);
    }
  }

  /**
   * With `perUfragStats`: requests, retransmissions, responses and RTTs of the STUN
   * transactions sent with USERNAME `<peer>:<ufrag>` (the ICE checks of our session `ufrag`).
   */
  ufragStats(ufrag: string): Readonly<UfragStats> | undefined {
    return this.#ufragStats?.get(ufrag);
  }

  /** Drops the per-ufrag counters of a session that is gone. */
  forgetUfrag(ufrag: string): void {
    this.#ufragStats?.delete(ufrag);
  }

  /** The latest `now` any call brought in. */
  get now(): number {
    return this.#now;
  }

  get childCount(): number {
    return this.#children.size;
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Non-STUN datagrams from `remote` belong to session `id` from now on. Several sessions may
   * share one remote transport address (a peer with one socket for all of them, like us): then
   * `pickSession` tells them apart by content (an RTP SSRC, a DTLS connection ID, ...).
   */
  bindSession(id: string, remote: SocketAddress, child?: Child): Session {
    this.unbindSession(id);
    const rec = child === undefined ? undefined : this.#rec(child);
    const s: SessionRecord = {
      id,
      remote: { address: remote.address, port: remote.port, family: remote.family },
      child: rec,
      rec,
      datagramsIn: 0,
      bytesIn: 0,
      datagramsOut: 0,
      bytesOut: 0,
    };
    let ports = this.#sessionsByRemote.get(remote.address);
    if (ports === undefined) {
      ports = new Map();
      this.#sessionsByRemote.set(remote.address, ports);
    }
    const shared = ports.get(remote.port);
    if (shared === undefined) ports.set(remote.port, [s]);
    else shared.push(s);
    this.#sessionsById.set(id, s);
    return s;
  }

  unbindSession(id: string): boolean {
    const s = this.#sessionsById.get(id);
    if (s === undefined) return false;
    this.#sessionsById.delete(id);
    const ports = this.#sessionsByRemote.get(s.remote.address);
    const shared = ports?.get(s.remote.port);
    if (ports !== undefined && shared !== undefined) {
      const i = shared.indexOf(s);
      if (i >= 0) shared.splice(i, 1);
      if (shared.length === 0) ports.delete(s.remote.port);
      if (ports.size === 0) this.#sessionsByRemote.delete(s.remote.address);
    }
    return true;
  }

  session(id: string): Session | undefined {
    return this.#sessionsById.get(id);
  }

  sessions(): IterableIterator<Session> {
    return this.#sessionsById.values();
  }

  /** Queues a datagram (copied) to a session's remote or to an address. */
  send(to: Session | SocketAddress, payload: Uint8Array): boolean {
    const destination = 'remote' in to ? to.remote : to;
    if (this.#queue.size >= this.#maxQueue) {
      this.stats.dropped['transmit-overflow']++;
      return false;
    }
    if ('remote' in to) {
      const s = to as SessionRecord;
      s.datagramsOut++;
      s.bytesOut += payload.length;
    }
    this.#queue.push({ destination, payload: payload.slice() });
    return true;
  }

  // ---------------------------------------------------------------- Machine

  handleInput(payload: Uint8Array, from: SocketAddress, now: number, to?: SocketAddress): Verdict {
    this.#observe(now);
    const st = this.stats;
    st.datagramsIn++;
    st.bytesIn += payload.length;
    if (payload.length === 0) return this.#drop('empty');
    const cls = classify(payload[0]!);
    st.classes[cls]++;
    switch (cls) {
      case 'stun':
        return this.#routeStun(payload, from, now, to);
      case 'zrtp':
      case 'dtls':
      case 'turn-channel':
      case 'rtp':
        return this.#routeData(payload, from, cls);
      case 'unknown':
        return this.#drop('unknown-first-byte');
      default: {
        const never: never = cls;
        return never;
      }
    }
  }

  pollTransmit(): Transmit | undefined {
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      this.stats.transmitsOut++;
      return queued;
    }
    const pending = this.#pendingTx;
    for (let rec = pending.peek(); rec !== undefined; rec = pending.peek()) {
      if (!rec.removed) {
        const t = rec.machine.pollTransmit();
        if (t !== undefined) {
          this.#track(t.payload, rec);
          this.stats.transmitsOut++;
          return t;
        }
        // Pulling output may move a deadline (a retransmit armed on send).
        this.#setDeadline(rec, rec.machine.pollTimeout());
      }
      rec.txQueued = false;
      pending.shift();
    }
    return undefined;
  }

  pollTimeout(): number | undefined {
    return this.#heap.peek()?.deadline;
  }

  handleTimeout(now: number): void {
    this.#observe(now);
    for (;;) {
      const rec = this.#heap.peek();
      if (rec === undefined || rec.deadline > now) return;
      this.#enter(rec);
      this.stats.childTimeouts++;
      // A child that is due again at `now` would make us spin: the contract forbids it, so
      // #setDeadline keeps it just after `now` (and we count it) to keep our own promise.
      rec.firedAt = now;
      rec.machine.handleTimeout(now);
      if (this.#touch(rec)) this.stats.childBusyLoops++;
    }
  }

  pollEvent(): MuxEvent | undefined {
    return this.#events.shift();
  }

  // ---------------------------------------------------------------- routing

  #routeStun(b: Uint8Array, from: SocketAddress, now: number, to: SocketAddress | undefined): Verdict {
    if (!isStunFrame(b)) return this.#drop('stun-malformed');
    const cls = stunClass(b);
    let rec: ChildRecord | undefined;
    let route: Route;
    switch (cls) {
      case CLASS_SUCCESS:
      case CLASS_ERROR: {
        const key = transactionKey(b);
        const t = this.#txCurrent.get(key) ?? this.#txPrevious.get(key);
        if (t === undefined || t.rec.removed) return this.#drop('stun-unmatched-response');
        rec = t.rec;
        if (!t.answered) {
          t.answered = true;
          this.#answered(t, now);
        }
        route = 'response';
        break;
      }
      case CLASS_REQUEST: {
        route = 'stun-server';
        if (
          findAttribute(b, ATTR_USERNAME) >= 0 &&
          (this.#defaultIce !== undefined || this.#ufragRoutes.size > 0)
        ) {
          // An ICE check (RFC 8445 §7.2.2). One for a ufrag nobody owns (a closed session) is
          // not the server's business: answering it unauthenticated would only confuse the peer.
          const ufrag = this.#ufragRoutes.size > 0 ? usernameUfrag(b) : undefined;
          rec = (ufrag === undefined ? undefined : this.#ufragRoutes.get(ufrag)) ?? this.#defaultIce;
          if (rec === undefined) return this.#drop('ice-unknown-ufrag');
          route = 'ice';
        } else {
          rec = this.#server;
        }
        if (rec === undefined) return this.#drop('stun-no-route');
        break;
      }
      case CLASS_INDICATION: {
        // Binding indications are ICE keepalives (RFC 8445 §11): the session's agent may want them.
        const s = this.#sessionAt(from);
        if (s?.rec === undefined || stunMethod(b) !== BINDING) return this.#drop('stun-indication');
        rec = s.rec;
        route = 'ice';
        break;
      }
      default:
        return this.#drop('stun-malformed');
    }
    this.#enter(rec);
    rec.machine.handleInput(b, from, now, to);
    this.#touch(rec);
    this.stats.routed[route]++;
    return route;
  }

  #routeData(b: Uint8Array, from: SocketAddress, kind: DataKind): Verdict {
    const shared = this.#sessionsByRemote.get(from.address)?.get(from.port);
    if (shared === undefined) return this.#drop('data-no-session');
    const s = (
      shared.length === 1 || this.#pickSession === undefined
        ? shared[shared.length - 1]
        : this.#pickSession(shared, b, kind)
    ) as SessionRecord | undefined;
    if (s === undefined) return this.#drop('data-no-session');
    s.datagramsIn++;
    s.bytesIn += b.length;
    this.stats.routed.data++;
    if (this.#onData !== undefined) this.#onData(s, b, kind, from);
    else this.#emit({ type: 'data', session: s, kind, payload: b.slice(), from });
    return 'data';
  }

  /** The latest session bound to `from` (for keepalives, any of them will do). */
  #sessionAt(from: SocketAddress): SessionRecord | undefined {
    const shared = this.#sessionsByRemote.get(from.address)?.get(from.port);
    return shared?.[shared.length - 1];
  }

  #drop(reason: DropReason): DropReason {
    this.stats.dropped[reason]++;
    return reason;
  }

  // ---------------------------------------------------------------- bookkeeping

  #rec(child: Child): ChildRecord {
    const rec = child as ChildRecord;
    if (!this.#children.has(rec)) throw new Error(`Mux: ${child.name} is not a child of this multiplexer`);
    return rec;
  }

  /** Ages transaction IDs lazily: swap generations once a lifetime has passed. */
  #observe(now: number): void {
    this.#now = now;
    if (now - this.#txGenerationStart >= this.#txLifetime) {
      this.#txPrevious = this.#txCurrent;
      this.#txCurrent = new Map();
      this.#txGenerationStart = now;
    }
  }

  /** Remember which child sent an outbound request, so its response finds its way back. */
  #track(payload: Uint8Array, rec: ChildRecord): void {
    if (
      payload.length >= 20 &&
      payload[0]! <= 3 &&
      stunClass(payload) === CLASS_REQUEST &&
      isStunFrame(payload)
    ) {
      if (this.#now - this.#txGenerationStart >= this.#txLifetime) this.#observe(this.#now);
      const key = transactionKey(payload);
      const known = this.#txCurrent.get(key) ?? this.#txPrevious.get(key);
      if (known !== undefined && known.rec === rec) {
        // The same transaction again: a retransmission (RFC 8489 §6.2.1).
        known.sends++;
        this.stats.retransmitsOut++;
        if (known.tag !== undefined) this.#tagStats(known.tag).retransmits++;
        this.#txCurrent.set(key, known);
        return;
      }
      const tag = this.#ufragStats === undefined ? undefined : usernameSenderUfrag(payload);
      this.#txCurrent.set(key, { rec, tag, sentAt: this.#now, sends: 1, answered: false });
      this.stats.requestsOut++;
      if (tag !== undefined) this.#tagStats(tag).requests++;
    }
  }

  /** A first response to one of our requests: RTT per Karn's rule (only unretransmitted ones, RFC 6298 §3). */
  #answered(t: Transaction, now: number): void {
    this.stats.responsesIn++;
    if (t.tag === undefined) return;
    const u = this.#tagStats(t.tag);
    u.responses++;
    if (t.sends === 1) {
      const rtt = now - t.sentAt;
      u.rttLast = rtt;
      u.rttSum += rtt;
      u.rttSamples++;
    }
  }

  #tagStats(tag: string): UfragStats {
    const m = this.#ufragStats!;
    let u = m.get(tag);
    if (u === undefined) {
      u = { requests: 0, retransmits: 0, responses: 0, rttLast: undefined, rttSum: 0, rttSamples: 0 };
      m.set(tag, u);
    }
    return u;
  }

  /**
   * Before calling into a child whose output we have not pulled: copy that output aside,
   * because the call may reuse the buffers it points into.
   */
  #enter(rec: ChildRecord): void {
    if (!rec.txQueued) return;
    for (let t = rec.machine.pollTransmit(); t !== undefined; t = rec.machine.pollTransmit()) {
      this.#track(t.payload, rec);
      if (this.#queue.size >= this.#maxQueue) {
        this.stats.dropped['transmit-overflow']++;
        continue;
      }
      const copy: Transmit = { destination: t.destination, payload: t.payload.slice() };
      if (t.source !== undefined) copy.source = t.source;
      this.#queue.push(copy);
    }
    // Still in #pendingTx; pollTransmit will find nothing there and move on.
  }

  /**
   * After calling into a child: collect its events, note its output, re-read its deadline.
   * Returns whether the deadline had to be moved past the child's last timeout.
   */
  #touch(rec: ChildRecord): boolean {
    for (let e = rec.machine.pollEvent(); e !== undefined; e = rec.machine.pollEvent()) {
      if (rec.onEvent !== undefined) rec.onEvent(e);
      else this.#emit({ type: 'child', child: rec, event: e });
    }
    if (!rec.txQueued && !rec.removed) {
      rec.txQueued = true;
      this.#pendingTx.push(rec);
    }
    return !rec.removed && this.#setDeadline(rec, rec.machine.pollTimeout());
  }

  /** Returns whether the deadline was at or before the child's last timeout (and so moved after it). */
  #setDeadline(rec: ChildRecord, deadline: number | undefined): boolean {
    let busy = false;
    if (deadline !== undefined && !Number.isFinite(deadline)) {
      this.stats.childBadTimeouts++;
      deadline = undefined;
    } else if (deadline !== undefined && deadline <= rec.firedAt) {
      busy = true;
      deadline = rec.firedAt + 1;
    }
    this.#heap.set(rec, deadline);
    return busy;
  }

  #emit(e: MuxEvent): void {
    if (this.#events.size >= this.#maxEvents) {
      this.stats.dropped['event-overflow']++;
      return;
    }
    this.#events.push(e);
  }
}
