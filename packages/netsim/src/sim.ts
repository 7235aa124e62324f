import type { Machine, RandomSource, SocketAddress, Transmit } from '@natkit/sans-io';
import { familyOf, sameSocketAddress } from './address.ts';
import { SimError } from './errors.ts';
import { type LinkConditions, sampleDelay } from './link.ts';
import { DEFAULT_NAT, type NatBehaviourConfig, type NatRefusal } from './nat.ts';
import { TimeQueue } from './queue.ts';
import { Rng } from './random.ts';
import { type Endpoint, Host, type HostInterface, Nat, Network, type SimContext } from './topology.ts';
import { type DropReason, formatTraceEntry, type TraceEntry } from './trace.ts';

/** Options of a {@link Sim}. */
export interface SimOptions {
  /** Seed of every random stream in the simulation (default `1`). Same seed, same run. */
  seed?: number | string;
  /** Virtual time at the start, ms (default `0`). */
  startTime?: number;
  /** Whether to record the trace (default `true`; turn off for very long runs). */
  trace?: boolean;
  /**
   * How many extra `handleTimeout(now)` calls a machine gets at one instant when its
   * `pollTimeout()` stays `<= now`, before the run fails with a `busy-loop` {@link SimError}.
   * Default `0`: the contract says `pollTimeout()` is `> now` right after `handleTimeout(now)`.
   */
  busyLoopTolerance?: number;
  /** Events processed at one instant before the run fails as `stalled` (default 100 000). */
  maxEventsPerInstant?: number;
}

/** Where a host is: one address on one network, or several interfaces. */
export type HostOptions = { network: Network; address: string } | { interfaces: readonly HostInterface[] };

/** A NAT's place in the topology plus (any of) its behaviour knobs. */
export interface NatOptions extends Partial<NatBehaviourConfig> {
  inside: Network;
  outside: Network;
  externalAddress: string;
}

/** Limits of `runUntil(predicate)` and `runUntilIdle()`. */
export interface RunOptions {
  /** Give up (throw a `timeout` {@link SimError}) after this much virtual time, ms. Default 600 000. */
  timeout?: number;
}

type Target =
  | { kind: 'host'; host: Host }
  | { kind: 'nat-inside'; nat: Nat }
  | { kind: 'nat-outside'; nat: Nat };

interface Hop {
  network: Network;
  from: SocketAddress;
  to: SocketAddress;
  payload: Uint8Array;
  packet: number;
  copy: number;
  hop: number;
  origin: string;
}

/** A hop for the trace: the network may be a name (`-` when a machine's source address is bad). */
type TracedHop = Omit<Hop, 'network'> & { network: Network | string };

interface Delivery extends Hop {
  time: number;
  seq: number;
  sentAt: number;
  target: Target;
}

const DEFAULT_RUN_TIMEOUT = 600_000;
const MAX_OUTPUT_PER_DRAIN = 1_000_000;

/**
 * A deterministic network in virtual time. Build a topology (networks, NATs, hosts), bind
 * machines to hosts, then `step`/`runUntil`: the clock jumps to the next due delivery or
 * machine timeout, and everything machines send, emit and schedule is collected on the way.
 * A run is a pure function of the topology, the machines and the seed.
 */
export class Sim {
  /** Every hop of every datagram and its verdict, in the order verdicts were reached. */
  readonly trace: TraceEntry[] = [];
  readonly networks = new Map<string, Network>();
  readonly hosts = new Map<string, Host>();
  readonly nats = new Map<string, Nat>();
  readonly seed: number | string;
  #now: number;
  #recordTrace: boolean;
  #busyLoopTolerance: number;
  #maxEventsPerInstant: number;
  #eventsThisInstant = 0;
  #queue = new TimeQueue<Delivery>();
  #seq = 0;
  #packetId = 0;
  #copyId = 0;
  #endpoints: Endpoint<Machine<unknown>>[] = [];
  #ctx: SimContext;

  constructor(options: SimOptions = {}) {
    this.seed = options.seed ?? 1;
    this.#now = options.startTime ?? 0;
    this.#recordTrace = options.trace ?? true;
    this.#busyLoopTolerance = options.busyLoopTolerance ?? 0;
    this.#maxEventsPerInstant = options.maxEventsPerInstant ?? 100_000;
    this.#ctx = {
      now: () => this.#now,
      trace: () => this.trace,
      drain: (ep) => this.#drain(ep),
      register: (ep) => {
        this.#endpoints.push(ep);
        this.#drain(ep);
      },
      unregister: (ep) => {
        this.#endpoints.splice(this.#endpoints.indexOf(ep), 1);
      },
    };
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.#now;
  }

  /** Adds a network with the given conditions (default: a perfect, instantaneous link). */
  network(name: string, conditions: Partial<LinkConditions> = {}): Network {
    if (this.networks.has(name)) throw new Error(`network ${name} exists`);
    const n = new Network(name, conditions, new Rng(this.seed, `network:${name}`));
    this.networks.set(name, n);
    return n;
  }

  /** Adds a host with one address on one network, or several interfaces. */
  host(name: string, options: HostOptions): Host {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const interfaces = 'interfaces' in options ? options.interfaces : [options];
    const h = new Host(this.#ctx, name, interfaces);
    for (const i of interfaces) i.network.claim(i.address, h);
    this.hosts.set(name, h);
    return h;
  }

  /** Adds a NAT whose external address is on `outside`, and makes it `inside`'s gateway. */
  nat(name: string, options: NatOptions): Nat {
    if (this.nats.has(name)) throw new Error(`NAT ${name} exists`);
    const { inside, outside, externalAddress, ...behaviour } = options;
    const config: NatBehaviourConfig = { ...DEFAULT_NAT };
    for (const [k, v] of Object.entries(behaviour)) {
      if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
    }
    const n = new Nat(
      this.#ctx,
      name,
      inside,
      outside,
      externalAddress,
      config,
      new Rng(this.seed, `nat:${name}`),
    );
    this.nats.set(name, n);
    return n;
  }

  /** A deterministic {@link RandomSource} for a machine, its own stream per label. */
  randomSource(label: string): RandomSource {
    return new Rng(this.seed, `source:${label}`).asRandomSource();
  }

  /** The time of the next delivery or machine timeout (clamped to now), or `undefined` when idle. */
  nextEventTime(): number | undefined {
    this.#drainAll();
    return this.#peekTime();
  }

  /**
   * Processes the next due thing — one delivery (deliveries first at equal times) or one
   * machine's timeout — after advancing the clock to it. Returns `false` when nothing is left.
   */
  step(): boolean {
    this.#drainAll();
    return this.#stepOnce();
  }

  /**
   * Runs until virtual time `until` (processing everything due up to and including it, then
   * setting the clock to it), or until `until()` holds — checked before every step; throws
   * an `idle` or `timeout` {@link SimError} if it cannot come true.
   */
  runUntil(until: number | (() => boolean), options: RunOptions = {}): void {
    if (typeof until === 'number') {
      for (;;) {
        this.#drainAll();
        const next = this.#peekTime();
        if (next === undefined || next > until) break;
        this.#stepOnce();
      }
      if (until > this.#now) this.#advance(until);
      return;
    }
    const deadline = this.#now + (options.timeout ?? DEFAULT_RUN_TIMEOUT);
    for (;;) {
      if (until()) return;
      this.#drainAll();
      const next = this.#peekTime();
      if (next === undefined) {
        throw new SimError('idle', 'nothing left to do and the condition is false', this.#now);
      }
      this.#checkDeadline(next, deadline, 'the condition is still false');
      this.#stepOnce();
    }
  }

  /** Runs for `ms` of virtual time. */
  runFor(ms: number): void {
    this.runUntil(this.#now + ms);
  }

  /** Runs until no delivery or timeout is pending (machines with periodic timers never get there: `timeout`). */
  runUntilIdle(options: RunOptions = {}): void {
    const deadline = this.#now + (options.timeout ?? DEFAULT_RUN_TIMEOUT);
    for (;;) {
      this.#drainAll();
      const next = this.#peekTime();
      if (next === undefined) return;
      this.#checkDeadline(next, deadline, 'still busy (a periodic timer?)');
      this.#stepOnce();
    }
  }

  /** A host by name (throws if absent: a typo in a test). */
  getHost(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The trace (optionally filtered), one line per hop. */
  formatTrace(filter: (e: TraceEntry) => boolean = () => true): string {
    return this.trace.filter(filter).map(formatTraceEntry).join('\n');
  }

  // ---------------------------------------------------------------------------------------

  #checkDeadline(next: number, deadline: number, what: string): void {
    if (next > deadline) {
      this.#advance(deadline);
      throw new SimError('timeout', what, this.#now);
    }
  }

  #peekTime(): number | undefined {
    const d = this.#queue.peek()?.time;
    const t = this.#nextTimer()?.timeout;
    if (d === undefined && t === undefined) return undefined;
    return Math.max(this.#now, Math.min(d ?? Number.POSITIVE_INFINITY, t ?? Number.POSITIVE_INFINITY));
  }

  #stepOnce(): boolean {
    const d = this.#queue.peek();
    const timer = this.#nextTimer();
    const tt = timer?.timeout === undefined ? undefined : Math.max(timer.timeout, this.#now);
    if (d === undefined && tt === undefined) return false;
    const deliveryFirst = d !== undefined && (tt === undefined || d.time <= tt);
    this.#advance(deliveryFirst ? d.time : tt!);
    if (deliveryFirst) {
      this.#queue.pop();
      this.#deliver(d);
    } else {
      this.#fire(timer!);
    }
    return true;
  }

  #advance(t: number): void {
    if (t > this.#now) {
      this.#now = t;
      this.#eventsThisInstant = 0;
    }
    if (++this.#eventsThisInstant > this.#maxEventsPerInstant) {
      throw new SimError('stalled', `more than ${this.#maxEventsPerInstant} events without time moving`, t);
    }
  }

  #nextTimer(): Endpoint<Machine<unknown>> | undefined {
    let best: Endpoint<Machine<unknown>> | undefined;
    for (const ep of this.#endpoints) {
      if (ep.timeout !== undefined && (best === undefined || ep.timeout < best.timeout!)) best = ep;
    }
    return best;
  }

  #drainAll(): void {
    // Picks up whatever tests did to machines directly since the last step.
    for (const ep of this.#endpoints) this.#drain(ep);
  }

  #threw(ep: Endpoint<Machine<unknown>>, verb: string, e: unknown): SimError {
    const msg = e instanceof Error ? e.message : String(e);
    return new SimError('machine-threw', `${verb}: ${msg}`, this.#now, ep.id, e);
  }

  #drain(ep: Endpoint<Machine<unknown>>): void {
    if (ep.removed) return;
    const m = ep.machine;
    let verb = 'pollTransmit';
    try {
      for (let n = 0; ; n++) {
        if (n === MAX_OUTPUT_PER_DRAIN)
          throw new SimError('stalled', 'pollTransmit never ends', this.#now, ep.id);
        const t = m.pollTransmit();
        if (t === undefined) break;
        this.#transmit(ep, t);
      }
      verb = 'pollEvent';
      for (let n = 0; ; n++) {
        if (n === MAX_OUTPUT_PER_DRAIN)
          throw new SimError('stalled', 'pollEvent never ends', this.#now, ep.id);
        const event = m.pollEvent();
        if (event === undefined) break;
        const timed = { time: this.#now, endpoint: ep.name, event };
        ep.events.push(timed);
        ep.host.events.push(timed);
      }
      verb = 'pollTimeout';
      ep.timeout = m.pollTimeout();
    } catch (e) {
      throw e instanceof SimError ? e : this.#threw(ep, verb, e);
    }
  }

  #fire(ep: Endpoint<Machine<unknown>>): void {
    const now = this.#now;
    for (let spins = 0; ; spins++) {
      try {
        ep.machine.handleTimeout(now);
      } catch (e) {
        throw this.#threw(ep, 'handleTimeout', e);
      }
      this.#drain(ep);
      if (ep.timeout === undefined || ep.timeout > now) return;
      if (spins >= this.#busyLoopTolerance) {
        throw new SimError(
          'busy-loop',
          `pollTimeout() is ${ep.timeout} right after handleTimeout(${now}); it must be undefined or > ${now}`,
          now,
          ep.id,
        );
      }
    }
  }

  #transmit(ep: Endpoint<Machine<unknown>>, t: Transmit): void {
    const source = t.source;
    const family = familyOf(t.destination.address);
    const local =
      source !== undefined
        ? ep.locals.find((l) => sameSocketAddress(l, source))
        : ep.locals.find((l) => l.family === family);
    // Copy: the machine may reuse its buffer after the next call into it.
    const payload = t.payload.slice();
    const to = { ...t.destination };
    const packet = ++this.#packetId;
    const network = local && ep.host.networkOf(local.address);
    // A socket sends only to its own family: an IPv4 source never reaches an IPv6 address.
    const refused: DropReason | undefined =
      local === undefined
        ? source !== undefined
          ? 'bad-source'
          : 'family-mismatch'
        : local.family !== family
          ? 'family-mismatch'
          : network === undefined
            ? 'bad-source'
            : undefined;
    if (refused !== undefined || !local || !network) {
      const from = source ? { ...source } : (local ?? ep.local);
      this.#drop(
        { network: '-', from, to, payload, packet, copy: 0, hop: 0, origin: ep.host.name },
        refused ?? 'bad-source',
        ep.id,
      );
      return;
    }
    this.#send({ network, from: local, to, payload, packet, copy: 0, hop: 0, origin: ep.host.name });
  }

  /**
   * Puts one hop on `hop.network`: routing, MTU, loss, delay, duplication — the network's
   * conditions plus the access links of the sending host (first hop only: later hops leave a
   * NAT) and of the receiving host.
   */
  #send(hop: Hop): void {
    const net = hop.network;
    const c = net.conditions;
    const node = net.nodes.get(hop.to.address);
    const up = hop.hop === 0 ? net.accessLinks.get(hop.from.address) : undefined;
    const down = node instanceof Host ? net.accessLinks.get(hop.to.address) : undefined;
    const size = hop.payload.length;
    if (size > c.mtu || (up && size > up.mtu) || (down && size > down.mtu)) {
      this.#drop(hop, 'too-big', net.name);
      return;
    }
    let target: Target;
    if (node instanceof Host) target = { kind: 'host', host: node };
    else if (node instanceof Nat) target = { kind: 'nat-outside', nat: node };
    else if (net.gateway) target = { kind: 'nat-inside', nat: net.gateway };
    else {
      this.#drop(hop, 'no-host', net.name);
      return;
    }
    const rng = net.rng;
    if (rng.chance(c.loss) || (up && rng.chance(up.loss)) || (down && rng.chance(down.loss))) {
      this.#drop(hop, 'loss', net.name);
      return;
    }
    this.#schedule(hop, target, hop.copy, hop.payload, delayOver(c, up, down, rng));
    if (rng.chance(c.duplicate) || (up && rng.chance(up.duplicate)) || (down && rng.chance(down.duplicate))) {
      this.#schedule(hop, target, ++this.#copyId, hop.payload.slice(), delayOver(c, up, down, rng));
    }
  }

  #schedule(hop: Hop, target: Target, copy: number, payload: Uint8Array, delay: number): void {
    const sentAt = this.#now;
    this.#queue.push({
      network: hop.network,
      from: hop.from,
      to: hop.to,
      payload,
      packet: hop.packet,
      copy,
      hop: hop.hop,
      origin: hop.origin,
      target,
      sentAt,
      time: sentAt + delay,
      seq: this.#seq++,
    });
  }

  #deliver(d: Delivery): void {
    const now = this.#now;
    switch (d.target.kind) {
      case 'host': {
        const host = d.target.host;
        const ep = host.bound(d.to);
        if (!ep) {
          this.#drop(d, 'no-listener', host.name, d.sentAt);
          return;
        }
        if (this.#recordTrace) {
          // One literal per verdict (no spreads): this runs for every datagram.
          this.trace.push({
            packet: d.packet,
            copy: d.copy,
            hop: d.hop,
            origin: d.origin,
            network: d.network.name,
            sentAt: d.sentAt,
            time: now,
            from: d.from,
            to: d.to,
            size: d.payload.length,
            payload: d.payload,
            verdict: 'delivered',
            host: host.name,
            endpoint: ep.name,
          });
        }
        try {
          ep.machine.handleInput(d.payload, d.from, now, d.to);
        } catch (e) {
          throw this.#threw(ep, 'handleInput', e);
        }
        this.#drain(ep);
        return;
      }
      case 'nat-inside': {
        const nat = d.target.nat;
        if (familyOf(d.to.address) !== familyOf(nat.externalAddress)) {
          this.#drop(d, 'family-mismatch', nat.name, d.sentAt);
          return;
        }
        const hairpin = d.to.address === nat.externalAddress;
        if (hairpin && !nat.config.hairpinning) {
          this.#drop(d, 'hairpin-disabled', nat.name, d.sentAt);
          return;
        }
        const out = nat.table.outbound(d.from, d.to, now);
        if (!out.ok) {
          this.#drop(d, out.reason, nat.name, d.sentAt);
          return;
        }
        if (!hairpin) {
          this.#forward(d, nat, out.from, d.to, nat.outside, false);
          return;
        }
        // Hairpinning (RFC 4787 §6, REQ-9): back inside, from the sender's external mapping,
        // through the target mapping's filter like any inbound datagram.
        const back = nat.table.inbound(out.from, d.to, now);
        if (!back.ok) {
          this.#drop(d, back.reason, nat.name, d.sentAt);
          return;
        }
        this.#forward(d, nat, out.from, back.to, nat.inside, true);
        return;
      }
      case 'nat-outside': {
        const nat = d.target.nat;
        const r = nat.table.inbound(d.from, d.to, now);
        if (!r.ok) {
          this.#drop(d, r.reason, nat.name, d.sentAt);
          return;
        }
        this.#forward(d, nat, d.from, r.to, nat.inside, false);
        return;
      }
      default: {
        const never: never = d.target;
        throw new TypeError(`unknown target ${String(never)}`);
      }
    }
  }

  #forward(
    d: Delivery,
    nat: Nat,
    from: SocketAddress,
    to: SocketAddress,
    network: Network,
    hairpin: boolean,
  ): void {
    if (this.#recordTrace) {
      this.trace.push({
        packet: d.packet,
        copy: d.copy,
        hop: d.hop,
        origin: d.origin,
        network: d.network.name,
        sentAt: d.sentAt,
        time: this.#now,
        from: d.from,
        to: d.to,
        size: d.payload.length,
        payload: d.payload,
        verdict: 'translated',
        nat: nat.name,
        next: { from, to },
        hairpin,
      });
    }
    this.#send({
      network,
      from,
      to,
      payload: d.payload,
      packet: d.packet,
      copy: d.copy,
      hop: d.hop + 1,
      origin: d.origin,
    });
  }

  #drop(h: TracedHop, reason: DropReason | NatRefusal, by: string, sentAt = this.#now): void {
    if (!this.#recordTrace) return;
    this.trace.push({
      packet: h.packet,
      copy: h.copy,
      hop: h.hop,
      origin: h.origin,
      network: typeof h.network === 'string' ? h.network : h.network.name,
      sentAt,
      time: this.#now,
      from: h.from,
      to: h.to,
      size: h.payload.length,
      payload: h.payload,
      verdict: 'dropped',
      reason,
      by,
    });
  }
}

/** One draw of a hop's delay: the network's plus the access links' at either end. */
function delayOver(
  c: LinkConditions,
  up: LinkConditions | undefined,
  down: LinkConditions | undefined,
  rng: Rng,
): number {
  return sampleDelay(c, rng) + (up ? sampleDelay(up, rng) : 0) + (down ? sampleDelay(down, rng) : 0);
}
