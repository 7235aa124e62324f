import type { SocketAddress } from '@natkit/sans-io';
import { formatSocketAddress, socketAddress } from './address.ts';
import type { Rng } from './random.ts';

/**
 * RFC 4787 §4.1 (mapping) and §5 (filtering) behaviours. For mapping: which remote
 * endpoints share one external mapping; for filtering: which remote endpoints may send in
 * through a mapping (any; only addresses the inside host sent to; only address:port pairs it sent to).
 */
export type NatBehaviour = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';

/**
 * How a NAT picks the external port of a new mapping (RFC 4787 §4.2.1):
 * `preserve` tries the internal port first, then the next free one upwards;
 * `sequential` hands out ports in order; `random` draws from the NAT's seeded stream.
 */
export type PortAssignment = 'preserve' | 'sequential' | 'random';

/** A NAT's behaviour, every knob independent. */
export interface NatBehaviourConfig {
  mapping: NatBehaviour;
  filtering: NatBehaviour;
  /**
   * A mapping (and each remote endpoint's permission through it) lives this long after the
   * last outbound datagram that used it, ms. RFC 4787 REQ-5 asks for at least 2 minutes.
   */
  mappingTimeout: number;
  /** Whether inbound datagrams refresh the mapping too (RFC 4787 REQ-6 leaves this open). */
  inboundRefresh: boolean;
  portAssignment: PortAssignment;
  /** Inclusive range external ports are taken from. */
  portRange: readonly [number, number];
  /**
   * Whether a datagram from inside to the NAT's own external address is looped back inside
   * (RFC 4787 §6, REQ-9: its source is translated to the sender's external mapping).
   */
  hairpinning: boolean;
  /**
   * Whether an unsolicited inbound datagram (no mapping, or refused by the filter) claims its
   * tuple — this external port and that remote endpoint — for {@link unsolicitedTimeout} ms,
   * refreshed by each such datagram. A later outbound flow from a mapping on that port to that
   * remote then gets another external port. This is Linux conntrack under a masquerade rule
   * with no input filter: the datagram, addressed to the router itself, becomes a connection
   * of its own, and NAT never reuses a tuple a connection holds (`nf_nat_used_tuple`). A router
   * that drops unsolicited input never confirms that connection, so it claims nothing.
   */
  unsolicitedClaimsTuple: boolean;
  /** How long such a claim lives after its last datagram, ms (Linux: `nf_conntrack_udp_timeout`, 30 s). */
  unsolicitedTimeout: number;
}

/** The defaults: a port-restricted cone that preserves ports, 2-minute timeouts, no hairpinning. */
export const DEFAULT_NAT: Readonly<NatBehaviourConfig> = Object.freeze({
  mapping: 'endpoint-independent',
  filtering: 'address-and-port-dependent',
  mappingTimeout: 120_000,
  inboundRefresh: false,
  portAssignment: 'preserve',
  portRange: [1024, 65535] as const,
  hairpinning: false,
  unsolicitedClaimsTuple: false,
  unsolicitedTimeout: 30_000,
});

/** The classic (RFC 3489) NAT names as RFC 4787 behaviour pairs. */
export const NatPresets = {
  /** Endpoint-independent mapping and filtering: anyone may send to a mapping. */
  fullCone: { mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
  /** Endpoint-independent mapping, address-dependent filtering. */
  restrictedCone: { mapping: 'endpoint-independent', filtering: 'address-dependent' },
  /** Endpoint-independent mapping, address-and-port-dependent filtering. */
  portRestrictedCone: { mapping: 'endpoint-independent', filtering: 'address-and-port-dependent' },
  /** A new mapping per destination address:port, and address-and-port-dependent filtering. */
  symmetric: { mapping: 'address-and-port-dependent', filtering: 'address-and-port-dependent' },
  /**
   * Linux masquerade (nftables/iptables) with no filter on input: a port-preserving,
   * endpoint-independent mapping and address-and-port-dependent filtering (conntrack admits
   * replies only), where unsolicited datagrams claim their tuple ({@link NatBehaviourConfig.unsolicitedClaimsTuple}).
   * Two peers behind such NATs fail ICE when one's check reaches the other's NAT first: that
   * NAT then sends its own host's checks to that peer from another port, which the peer's NAT
   * filters. (`portRestrictedCone` is the same NAT behind a router that drops unsolicited input.)
   */
  linuxMasquerade: {
    mapping: 'endpoint-independent',
    filtering: 'address-and-port-dependent',
    unsolicitedClaimsTuple: true,
  },
} as const satisfies Record<string, Partial<NatBehaviourConfig>>;

/** One live translation, as {@link NatTable.mappings} reports it. */
export interface NatMapping {
  /** The inside host's address:port. */
  readonly internal: SocketAddress;
  /** The address:port the outside sees. */
  readonly external: SocketAddress;
  /** For address(-and-port)-dependent mapping, the remote the mapping was made for. */
  readonly remote: string | undefined;
  /** When it expires unless refreshed, ms. */
  readonly expiresAt: number;
}

interface Entry {
  key: string;
  internal: SocketAddress;
  external: SocketAddress;
  remote: string | undefined;
  expiresAt: number;
  /** Filtering permissions: remote key (per the filtering behaviour) → expiry. */
  permits: Map<string, number>;
}

/** Why a NAT refused a datagram. */
export type NatRefusal = 'no-mapping' | 'nat-filtered' | 'nat-ports-exhausted';

/** The outcome of translating one datagram. */
export type NatVerdict =
  | { ok: true; from: SocketAddress; to: SocketAddress }
  | { ok: false; reason: NatRefusal };

/**
 * The translation state of one NAT with one external address: mappings keyed by the
 * inside endpoint (plus the remote, per the mapping behaviour), each owning one external port.
 * Expiry is lazy — an entry past its time is treated as absent and reclaimed when seen —
 * so the table needs no timers and stays a pure function of its inputs.
 */
export class NatTable {
  readonly config: Readonly<NatBehaviourConfig>;
  readonly externalAddress: string;
  #byKey = new Map<string, Entry>();
  #byPort = new Map<number, Entry>();
  /** `unsolicitedClaimsTuple`: "externalPort remote" → when the claim lapses. */
  #claims = new Map<string, number>();
  #nextPort: number;
  #rng: Rng;

  constructor(externalAddress: string, config: Readonly<NatBehaviourConfig>, rng: Rng) {
    const [lo, hi] = config.portRange;
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && 1 <= lo && lo <= hi && hi <= 65535)) {
      throw new RangeError(`bad NAT port range ${lo}-${hi}`);
    }
    if (!(config.mappingTimeout > 0)) throw new RangeError('NAT mappingTimeout must be > 0');
    if (!(config.unsolicitedTimeout > 0)) throw new RangeError('NAT unsolicitedTimeout must be > 0');
    this.config = config;
    this.externalAddress = externalAddress;
    this.#nextPort = lo;
    this.#rng = rng;
  }

  /** A datagram from inside (`from`) to the outside (`to`): find or make the mapping, refresh it. */
  outbound(from: SocketAddress, to: SocketAddress, now: number): NatVerdict {
    const remote = remoteKey(this.config.mapping, to);
    const key = remote === undefined ? formatSocketAddress(from) : `${formatSocketAddress(from)}>${remote}`;
    let e = this.#live(this.#byKey.get(key), now) ?? this.#map(key, from, remote, now);
    if (e === undefined) return { ok: false, reason: 'nat-ports-exhausted' };
    if (this.config.unsolicitedClaimsTuple) {
      // This flow's tuple is claimed by an unsolicited datagram from `to`: the flow gets a
      // mapping of its own, on another port (kept while it lives, like its conntrack entry).
      const dest = formatSocketAddress(to);
      const own = `${formatSocketAddress(from)}>${dest}!`;
      const flow = this.#live(this.#byKey.get(own), now);
      if (flow !== undefined) e = flow;
      else if (this.#claimed(e.external.port, dest, now)) {
        const f = this.#map(own, from, dest, now);
        if (f === undefined) return { ok: false, reason: 'nat-ports-exhausted' };
        e = f;
      }
    }
    // RFC 4787 REQ-6: outbound traffic refreshes the mapping; it also opens the filter for `to`.
    e.expiresAt = now + this.config.mappingTimeout;
    const permit = remoteKey(this.config.filtering, to);
    if (permit !== undefined) e.permits.set(permit, e.expiresAt);
    return { ok: true, from: e.external, to };
  }

  /** A datagram from the outside (`from`) to the external address (`to`): translate or refuse it. */
  inbound(from: SocketAddress, to: SocketAddress, now: number): NatVerdict {
    const e = this.#live(this.#byPort.get(to.port), now);
    if (!e || to.address !== this.externalAddress) return this.#unsolicited('no-mapping', from, to, now);
    const permit = remoteKey(this.config.filtering, from);
    if (permit !== undefined) {
      const until = e.permits.get(permit);
      if (until === undefined || until <= now) return this.#unsolicited('nat-filtered', from, to, now);
      if (this.config.inboundRefresh) e.permits.set(permit, now + this.config.mappingTimeout);
    }
    if (this.config.inboundRefresh) e.expiresAt = now + this.config.mappingTimeout;
    return { ok: true, from, to: e.internal };
  }

  /** The live mappings at `now`, in creation order. */
  mappings(now: number): NatMapping[] {
    const out: NatMapping[] = [];
    for (const e of this.#byKey.values()) {
      if (e.expiresAt > now) {
        out.push({ internal: e.internal, external: e.external, remote: e.remote, expiresAt: e.expiresAt });
      }
    }
    return out;
  }

  /** Forgets every mapping (a NAT reboot). */
  clear(): void {
    this.#byKey.clear();
    this.#byPort.clear();
    this.#claims.clear();
    this.#nextPort = this.config.portRange[0];
  }

  /** A new mapping under `key` on a free port, or undefined when none is left. */
  #map(key: string, from: SocketAddress, remote: string | undefined, now: number): Entry | undefined {
    const port = this.#allocate(from.port, now);
    if (port === undefined) return undefined;
    const e: Entry = {
      key,
      internal: { ...from },
      external: socketAddress(this.externalAddress, port),
      remote,
      expiresAt: 0,
      permits: new Map(),
    };
    this.#byKey.set(key, e);
    this.#byPort.set(port, e);
    return e;
  }

  /** A refused inbound datagram; with `unsolicitedClaimsTuple` it claims (or re-claims) its tuple. */
  #unsolicited(reason: NatRefusal, from: SocketAddress, to: SocketAddress, now: number): NatVerdict {
    if (this.config.unsolicitedClaimsTuple && to.address === this.externalAddress) {
      // Lapsed claims are dropped when looked at; a scan from many remotes is swept here.
      if (this.#claims.size >= 4096)
        for (const [k, until] of this.#claims) if (until <= now) this.#claims.delete(k);
      this.#claims.set(`${to.port} ${formatSocketAddress(from)}`, now + this.config.unsolicitedTimeout);
    }
    return { ok: false, reason };
  }

  #claimed(port: number, remote: string, now: number): boolean {
    const k = `${port} ${remote}`;
    const until = this.#claims.get(k);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#claims.delete(k);
    return false;
  }

  #live(e: Entry | undefined, now: number): Entry | undefined {
    if (e === undefined) return undefined;
    if (e.expiresAt > now) return e;
    this.#byKey.delete(e.key);
    this.#byPort.delete(e.external.port);
    return undefined;
  }

  #free(port: number, now: number): boolean {
    return this.#live(this.#byPort.get(port), now) === undefined;
  }

  #allocate(internalPort: number, now: number): number | undefined {
    const [lo, hi] = this.config.portRange;
    const span = hi - lo + 1;
    let start: number;
    switch (this.config.portAssignment) {
      case 'preserve':
        start = internalPort >= lo && internalPort <= hi ? internalPort : this.#nextPort;
        break;
      case 'sequential':
        start = this.#nextPort;
        break;
      case 'random':
        start = lo + this.#rng.int(span);
        break;
      default: {
        const never: never = this.config.portAssignment;
        throw new TypeError(`unknown port assignment ${String(never)}`);
      }
    }
    for (let i = 0; i < span; i++) {
      const port = lo + ((start - lo + i) % span);
      if (this.#free(port, now)) {
        if (this.config.portAssignment === 'sequential') this.#nextPort = port === hi ? lo : port + 1;
        return port;
      }
    }
    return undefined;
  }
}

/** The part of a remote endpoint a behaviour cares about (`undefined`: none — endpoint-independent). */
function remoteKey(behaviour: NatBehaviour, remote: SocketAddress): string | undefined {
  switch (behaviour) {
    case 'endpoint-independent':
      return undefined;
    case 'address-dependent':
      return remote.address;
    case 'address-and-port-dependent':
      return formatSocketAddress(remote);
    default: {
      const never: never = behaviour;
      throw new TypeError(`unknown NAT behaviour ${String(never)}`);
    }
  }
}
