import type { EventOf, Machine, SocketAddress } from '@natkit/sans-io';
import { familyOf, formatSocketAddress, socketAddress } from './address.ts';
import { type LinkConditions, PERFECT_LINK, resolveLink } from './link.ts';
import { type NatBehaviourConfig, type NatMapping, NatTable } from './nat.ts';
import type { Rng } from './random.ts';
import type { TraceEntry } from './trace.ts';

/** What topology objects need from their simulation. Not part of the public API. */
export interface SimContext {
  now(): number;
  trace(): readonly TraceEntry[];
  drain(endpoint: Endpoint<Machine<unknown>>): void;
  register(endpoint: Endpoint<Machine<unknown>>): void;
  unregister(endpoint: Endpoint<Machine<unknown>>): void;
}

/**
 * A network (a LAN, or "the internet"): a set of addresses and the conditions every hop across it sees.
 * A private network has a gateway: the NAT whose inside it is; datagrams for addresses it does
 * not hold go there.
 */
export class Network {
  readonly name: string;
  #conditions: LinkConditions;
  /** @internal address → the host, or the NAT whose external address it is. */
  readonly nodes = new Map<string, Host | Nat>();
  /** @internal the NAT this network sits behind, if any. */
  gateway: Nat | undefined;
  /** @internal this network's own random stream (loss, delay, duplication). */
  readonly rng: Rng;
  /** @internal address → the access-link conditions of a host interface that has its own. */
  readonly accessLinks = new Map<string, LinkConditions>();

  /** Not for direct use: call `Sim.network`. */
  constructor(name: string, conditions: Partial<LinkConditions>, rng: Rng) {
    this.name = name;
    this.#conditions = resolveLink(PERFECT_LINK, conditions);
    this.rng = rng;
  }

  /** The conditions each hop on this network sees now. */
  get conditions(): Readonly<LinkConditions> {
    return this.#conditions;
  }

  /** Changes some conditions from now on (datagrams already in flight keep their fate). */
  configure(conditions: Partial<LinkConditions>): void {
    this.#conditions = resolveLink(this.#conditions, conditions);
  }

  /** @internal */
  claim(address: string, node: Host | Nat): void {
    const owner = this.nodes.get(address);
    if (owner) throw new Error(`address ${address} on ${this.name} already belongs to ${owner.name}`);
    this.nodes.set(address, node);
  }
}

/** One address of a host and the network it is on. */
export interface HostInterface {
  readonly network: Network;
  readonly address: string;
  /**
   * The host's own access link on that network (a slow uplink, a flaky Wi-Fi): its conditions
   * add to the network's on every hop leaving or reaching this address — delays add, losses and
   * duplications compound, the smaller MTU wins.
   */
  readonly link?: Partial<LinkConditions>;
}

/** An event a machine emitted, stamped with the virtual time it was collected at. */
export interface TimedEvent<E> {
  readonly time: number;
  /** The endpoint's name (unique on its host). */
  readonly endpoint: string;
  readonly event: E;
}

/** Where a machine is bound on its host. */
export interface BindOptions {
  /** Local port; absent: the host's next ephemeral port (from 49152). */
  port?: number;
  /** Which of the host's addresses to bind; absent: all of them. */
  address?: string | readonly string[];
  /** Name in traces and events; absent: `m0`, `m1`, ... */
  name?: string;
}

/** A machine at home on a host, with the local socket addresses it is bound to. */
export class Endpoint<M extends Machine<unknown>> {
  readonly name: string;
  readonly host: Host;
  readonly machine: M;
  /** Bound socket addresses; `Transmit.source` picks one, absent means the first of the destination's family. */
  readonly locals: readonly SocketAddress[];
  /** Every event the machine emitted, in order. */
  readonly events: TimedEvent<EventOf<M>>[] = [];
  /** @internal the machine's last reported `pollTimeout()`. */
  timeout: number | undefined;
  /** @internal */
  removed = false;
  #ctx: SimContext;

  /** Not for direct use: call `Host.add`. */
  constructor(ctx: SimContext, host: Host, name: string, machine: M, locals: SocketAddress[]) {
    this.#ctx = ctx;
    this.host = host;
    this.name = name;
    this.machine = machine;
    this.locals = locals;
  }

  /** The first bound address. */
  get local(): SocketAddress {
    return this.locals[0]!;
  }

  /** `host/name`, as traces and errors print it. */
  get id(): string {
    return `${this.host.name}/${this.name}`;
  }

  /**
   * Calls into the machine outside the five verbs (`client.query(server, now)`) at the
   * current virtual time, then collects what it wants to send, its events and its timeout.
   */
  act<R>(fn: (machine: M, now: number) => R): R {
    const r = fn(this.machine, this.#ctx.now());
    this.#ctx.drain(this as Endpoint<Machine<unknown>>);
    return r;
  }

  /** The events whose `type` is `type`. */
  eventsOfType<T extends string>(type: T): Extract<EventOf<M>, { type: T }>[] {
    const out: Extract<EventOf<M>, { type: T }>[] = [];
    for (const e of this.events) {
      const ev = e.event as { type?: unknown } | undefined;
      if (typeof ev === 'object' && ev !== null && ev.type === type)
        out.push(e.event as Extract<EventOf<M>, { type: T }>);
    }
    return out;
  }

  /** Hops delivered to this endpoint, from the trace. */
  received(): TraceEntry[] {
    return this.#ctx
      .trace()
      .filter((e) => e.verdict === 'delivered' && e.host === this.host.name && e.endpoint === this.name);
  }

  /** Unbinds the machine: datagrams for its ports are dropped as `no-listener` from now on. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.host.unbind(this as Endpoint<Machine<unknown>>);
    this.#ctx.unregister(this as Endpoint<Machine<unknown>>);
  }
}

/** A host: one or more addresses (possibly on several networks) and the machines bound to them. */
export class Host {
  readonly name: string;
  readonly interfaces: readonly HostInterface[];
  /** Every event any of its machines emitted, in order. */
  readonly events: TimedEvent<unknown>[] = [];
  readonly endpoints: Endpoint<Machine<unknown>>[] = [];
  #bindings = new Map<string, Endpoint<Machine<unknown>>>();
  #nextEphemeral = 49152;
  #ctx: SimContext;

  /** Not for direct use: call `Sim.host`. */
  constructor(ctx: SimContext, name: string, interfaces: readonly HostInterface[]) {
    if (interfaces.length === 0) throw new TypeError(`host ${name} needs at least one address`);
    this.#ctx = ctx;
    this.name = name;
    this.interfaces = interfaces;
    for (const i of interfaces) {
      if (i.link) i.network.accessLinks.set(i.address, resolveLink(PERFECT_LINK, i.link));
    }
  }

  /** The first address. */
  get address(): string {
    return this.interfaces[0]!.address;
  }

  /** The socket address `address:port` on this host (first address by default). */
  socket(port: number, address: string = this.address): SocketAddress {
    return socketAddress(address, port);
  }

  /** Binds `machine` to a port on some or all of this host's addresses and starts driving it. */
  add<M extends Machine<unknown>>(machine: M, options: BindOptions = {}): Endpoint<M> {
    const addresses =
      options.address === undefined
        ? this.interfaces.map((i) => i.address)
        : typeof options.address === 'string'
          ? [options.address]
          : [...options.address];
    for (const a of addresses) {
      if (!this.interfaces.some((i) => i.address === a))
        throw new Error(`host ${this.name} has no address ${a}`);
    }
    const port = options.port ?? this.#ephemeral(addresses);
    const locals = addresses.map((a) => socketAddress(a, port));
    for (const l of locals) {
      if (this.#bindings.has(formatSocketAddress(l))) {
        throw new Error(`${formatSocketAddress(l)} on host ${this.name} is already bound`);
      }
    }
    const name = options.name ?? `m${this.endpoints.length}`;
    if (this.endpoints.some((e) => e.name === name)) throw new Error(`host ${this.name} already has ${name}`);
    const ep = new Endpoint(this.#ctx, this, name, machine, locals);
    const erased = ep as Endpoint<Machine<unknown>>;
    for (const l of locals) this.#bindings.set(formatSocketAddress(l), erased);
    this.endpoints.push(erased);
    this.#ctx.register(erased);
    return ep;
  }

  /** The endpoint with that name. */
  endpoint(name: string): Endpoint<Machine<unknown>> | undefined {
    return this.endpoints.find((e) => e.name === name);
  }

  /** Changes the access-link conditions of one of its addresses (default: the first) from now on. */
  configureLink(conditions: Partial<LinkConditions>, address: string = this.address): void {
    const network = this.networkOf(address);
    if (!network) throw new Error(`host ${this.name} has no address ${address}`);
    network.accessLinks.set(
      address,
      resolveLink(network.accessLinks.get(address) ?? PERFECT_LINK, conditions),
    );
  }

  /** The network an address of this host is on. */
  networkOf(address: string): Network | undefined {
    return this.interfaces.find((i) => i.address === address)?.network;
  }

  /** Hops delivered to this host ("what did it see"), from the trace. */
  received(): TraceEntry[] {
    return this.#ctx.trace().filter((e) => e.verdict === 'delivered' && e.host === this.name);
  }

  /** The first hop of every datagram this host's machines sent (including ones dropped at once). */
  sent(): TraceEntry[] {
    return this.#ctx.trace().filter((e) => e.hop === 0 && e.copy === 0 && e.origin === this.name);
  }

  /** @internal */
  bound(local: SocketAddress): Endpoint<Machine<unknown>> | undefined {
    return this.#bindings.get(formatSocketAddress(local));
  }

  /** @internal */
  unbind(ep: Endpoint<Machine<unknown>>): void {
    for (const l of ep.locals) this.#bindings.delete(formatSocketAddress(l));
    this.endpoints.splice(this.endpoints.indexOf(ep), 1);
  }

  #ephemeral(addresses: readonly string[]): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port === 65535 ? 49152 : port + 1;
      if (addresses.every((a) => !this.#bindings.has(formatSocketAddress(socketAddress(a, port)))))
        return port;
    }
    throw new Error(`host ${this.name} has no free ephemeral port`);
  }
}

/** A NAT between a private network (`inside`) and another (`outside`, often the internet, or a CGNAT's inside). */
export class Nat {
  readonly name: string;
  readonly inside: Network;
  readonly outside: Network;
  /** @internal */
  readonly table: NatTable;
  #ctx: SimContext;

  /** Not for direct use: call `Sim.nat`. */
  constructor(
    ctx: SimContext,
    name: string,
    inside: Network,
    outside: Network,
    externalAddress: string,
    config: NatBehaviourConfig,
    rng: Rng,
  ) {
    if (inside === outside) throw new Error(`NAT ${name}: inside and outside must differ`);
    if (inside.gateway)
      throw new Error(`network ${inside.name} already sits behind NAT ${inside.gateway.name}`);
    this.#ctx = ctx;
    this.name = name;
    this.inside = inside;
    this.outside = outside;
    this.table = new NatTable(externalAddress, config, rng);
    outside.claim(externalAddress, this);
    inside.gateway = this;
  }

  /** The address the outside sees. */
  get externalAddress(): string {
    return this.table.externalAddress;
  }

  /** The family of the external address. */
  get family(): SocketAddress['family'] {
    return familyOf(this.table.externalAddress);
  }

  /** This NAT's behaviour. */
  get config(): Readonly<NatBehaviourConfig> {
    return this.table.config;
  }

  /** The mappings alive now. */
  mappings(): NatMapping[] {
    return this.table.mappings(this.#ctx.now());
  }

  /** Forgets every mapping, as a rebooting NAT does. */
  reset(): void {
    this.table.clear();
  }
}
