import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIPv6 } from 'node:net';
import {
  DriverBase,
  type DriverOptions,
  type EventOf,
  errorCode,
  IPV4_MAPPED_PREFIX,
  peerAddress,
  WILDCARD_ADDRESSES,
} from '@natkit/io-core';
import type { Machine, SocketAddress } from '@natkit/sans-io';

export type { EventOf };

/** Options for {@link UdpDriver} when the caller hands in a socket. */
export interface UdpDriverOptions<E> extends DriverOptions<E> {
  /**
   * A `node:dgram` socket, bound or not yet bound (the driver listens for `message` either
   * way). The driver owns it: `close()` closes it unless `keepSocketOpen` is set.
   */
  socket: Socket;
  /** On `close()`, detach from the socket but leave it open. Default false. */
  keepSocketOpen?: boolean;
  /** Clock in monotonic ms. Default `performance.now()`. */
  now?: () => number;
}

/** Options for {@link bindUdp}. */
export interface BindOptions<E> extends DriverOptions<E> {
  /** Local address. Default `0.0.0.0`, or `::` when `family` is `IPv6`. */
  address?: string;
  /** Local port; 0 (the default) picks a free one. */
  port?: number;
  /** Default: IPv6 when `address` is an IPv6 literal, else IPv4. */
  family?: 'IPv4' | 'IPv6';
  /** For IPv6 sockets: do not also receive IPv4-mapped traffic. */
  ipv6Only?: boolean;
  reuseAddr?: boolean;
  /** Clock in monotonic ms. Default `performance.now()`. */
  now?: () => number;
}

/** Bytes per copy slab (for copies too large to pool); above an eighth of it, a copy of their own. */
const SLAB_SIZE = 64 * 1024;
/** Copies of up to this many bytes are reused (STUN, ICE and most application datagrams). */
const POOL_MAX_BYTES = 1500;
/**
 * Free copies kept per length: more than a burst's worth still in flight is left to the GC.
 * Bounds what the pool holds: at most 16 copies of each length up to 1500 bytes (18 MB if
 * every length had been in flight 16 times over; a server's few reply sizes take a few KB).
 */
const POOL_DEPTH = 16;

/**
 * The default clock. `performance` is read once: on Node's global object it is an accessor
 * (installed lazily), so naming it in the clock would call that getter on every datagram.
 */
const clock = performance;
const performanceNow = (): number => clock.now();

function familyOf(info: { family: string | number; address: string }): 'IPv4' | 'IPv6' {
  // Node 18.0-18.3 reported the family as a number; every other version as a string.
  return info.family === 'IPv6' || info.family === 6 ? 'IPv6' : 'IPv4';
}

/** A socket-level address (`rinfo`, `remoteAddress()`) as the machine sees it (see `peerAddress`). */
function socketAddressOf(info: { family: string | number; address: string; port: number }): SocketAddress {
  return peerAddress(info.address, info.port, familyOf(info));
}

/**
 * Runs one sans-IO {@link Machine} over one `node:dgram` socket.
 *
 * - each datagram: `handleInput(view, from, now)` with a `Uint8Array` view over the received
 *   Buffer (no copy), then every `pollTransmit()` is sent and every `pollEvent()` delivered;
 * - exactly one timer is armed, for `pollTimeout()`; when it fires, `handleTimeout(now)`;
 * - `now` is `performance.now()`;
 * - socket errors, send failures and machine exceptions become events; the loop keeps running.
 *
 * After calling a method on the machine yourself (say, starting a transaction), call
 * {@link flush} — or do it inside {@link update} — so its output is sent and its timer armed.
 */
export class UdpDriver<M extends Machine<unknown>> extends DriverBase<M> {
  readonly socket: Socket;
  readonly #keepSocketOpen: boolean;
  #local: SocketAddress | undefined;
  /** `#local`, unless it is a wildcard address (which says nothing about where a datagram arrived). */
  #localForMachine: SocketAddress | undefined;
  /** The peer of a connected socket: datagrams to it are sent without an address (see `transmit`). */
  #remote: SocketAddress | undefined;
  /** Bound as IPv6: IPv4 peers (a dual-stack socket's) are sent to at their mapped address. */
  #ipv6Socket = false;
  /** Where outgoing copies come from and go back to. */
  readonly #copies = new CopyPool(this.core);

  constructor(machine: M, options: UdpDriverOptions<EventOf<M>>) {
    const { socket, keepSocketOpen = false, now = performanceNow, ...rest } = options;
    super(machine, now, rest);
    this.socket = socket;
    this.#keepSocketOpen = keepSocketOpen;
    socket.on('message', this.#onMessage);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('listening', this.#onListening);
    socket.on('connect', this.#onConnect);
    this.#onListening();
    this.#onConnect();
    // A machine may have output or a deadline before the first datagram (a client that was started).
    this.core.flush();
  }

  /** The socket's local address, once bound. */
  get localAddress(): SocketAddress | undefined {
    return this.#local;
  }

  /**
   * Removes the listeners and closes the socket (unless `keepSocketOpen`). Afterwards the driver
   * holds no handle that keeps the process alive.
   */
  protected release(reason: 'close' | 'socket-closed'): Promise<void> {
    const socket = this.socket;
    socket.off('message', this.#onMessage);
    socket.off('listening', this.#onListening);
    socket.off('connect', this.#onConnect);
    if (reason === 'socket-closed' || this.#keepSocketOpen) {
      this.#detach();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      socket.off('close', this.#onClose);
      try {
        socket.close(() => {
          this.#detach();
          resolve();
        });
      } catch {
        // Already closed by someone else (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release.
        this.#detach();
        resolve();
      }
    });
  }

  #detach(): void {
    this.socket.off('close', this.#onClose);
    // Keep swallowing late errors from a socket we owned so they cannot become uncaught exceptions.
    if (this.#keepSocketOpen) this.socket.off('error', this.#onError);
  }

  readonly #onMessage = (message: Buffer, rinfo: RemoteInfo): void => {
    const view = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    this.core.input(view, socketAddressOf(rinfo), this.#localForMachine);
  };

  readonly #onError = (error: Error): void => {
    this.core.socketError(error, errorCode(error));
  };

  readonly #onClose = (): void => {
    // Closed underneath us (by the caller, or after a fatal error).
    void this.shutDown('socket-closed');
  };

  readonly #onListening = (): void => {
    let info: { address: string; port: number; family: string | number };
    try {
      info = this.socket.address();
    } catch {
      return; // not bound yet: 'listening' will call again
    }
    const local: SocketAddress = { address: info.address, port: info.port, family: familyOf(info) };
    this.#local = local;
    this.#ipv6Socket = local.family === 'IPv6';
    this.#localForMachine = WILDCARD_ADDRESSES.has(local.address) ? undefined : local;
  };

  readonly #onConnect = (): void => {
    let info: { address: string; port: number; family: string | number };
    try {
      info = this.socket.remoteAddress();
    } catch {
      return; // not connected
    }
    this.#remote = socketAddressOf(info);
  };

  protected yieldToIo(fn: () => void): unknown {
    return setImmediate(fn);
  }

  protected cancelYield(handle: unknown): void {
    clearImmediate(handle as ReturnType<typeof setImmediate>);
  }

  protected transmit(payload: Uint8Array, destination: SocketAddress): void {
    // node:dgram may complete a send after this returns (and queues it while the socket binds),
    // while the machine may reuse `payload` on its next call: send a private copy. The send's
    // completion callback hands it back to the pool.
    const out = this.#copies.take(payload, destination);
    const remote = this.#remote;
    try {
      // A connected socket (handed in by the caller) sends only to its peer and must be given
      // no address; any other destination fails with ERR_SOCKET_DGRAM_IS_CONNECTED.
      if (remote !== undefined && remote.port === destination.port && remote.address === destination.address)
        this.socket.send(out.bytes, out.done);
      else if (this.#ipv6Socket && destination.family === 'IPv4')
        // The machine was told IPv4 peers' own addresses (see peerAddress); an IPv6 socket
        // reaches them at the mapped address (or, with ipv6Only, not at all: a send-error).
        this.socket.send(out.bytes, destination.port, IPV4_MAPPED_PREFIX + destination.address, out.done);
      else this.socket.send(out.bytes, destination.port, destination.address, out.done);
    } catch (error) {
      // Synchronous failures: socket closed (ERR_SOCKET_DGRAM_NOT_RUNNING), bad port, ...
      // (node calls no callback then, so `out` is not reused: the GC takes it.)
      this.core.sendError(error, errorCode(error), destination, out.bytes.byteLength);
    }
  }
}

interface SendErrorSink {
  sendError(error: unknown, code: string | undefined, destination: SocketAddress, bytes: number): void;
}

/**
 * One outgoing copy and the completion callback of its send. node:dgram reports send failures
 * only through that callback, and calls it once it is done with the bytes (on the next tick for
 * a send that went out at once), so the callback also hands the copy back to its pool. A pooled
 * copy keeps its callback, so a send in steady state allocates neither bytes nor a closure.
 * (The callback is made in the constructor rather than as a class field arrow: transpilers that
 * keep function names, like esbuild's keepNames as tsx runs the sources, would otherwise call a
 * naming helper each time one is made.)
 */
class Outgoing {
  /** Where the current send goes (for its `send-error`). */
  destination: SocketAddress;
  readonly done: (error: Error | null) => void;

  constructor(
    readonly bytes: Uint8Array,
    destination: SocketAddress,
    core: SendErrorSink,
    pool: CopyPool | undefined,
  ) {
    this.destination = destination;
    this.done = (error) => {
      if (error) core.sendError(error, errorCode(error), this.destination, this.bytes.byteLength);
      pool?.release(this);
    };
  }
}

/**
 * Private copies of outgoing payloads. A copy of up to {@link POOL_MAX_BYTES} that node:dgram
 * is done with (its send's callback ran) goes back to a free list for its exact length, so a
 * server answering same-sized datagrams reuses a handful of copies instead of creating a typed
 * array (a call into V8's runtime) and a callback per datagram. Such copies get an ArrayBuffer
 * of their own, so a pooled copy pins nothing else, and always off the JS heap (a small
 * `new Uint8Array(n)` lives on it, and node would move it off on every send). Larger ones are
 * carved from a slab that is never rewound (a full one is replaced), the largest are sliced.
 */
class CopyPool {
  readonly #core: SendErrorSink;
  #slab = new ArrayBuffer(SLAB_SIZE);
  #slabUsed = 0;
  /** Free copies by exact length (the index), up to {@link POOL_MAX_BYTES}. */
  readonly #free: (Outgoing[] | undefined)[] = new Array(POOL_MAX_BYTES + 1).fill(undefined);

  constructor(core: SendErrorSink) {
    this.#core = core;
  }

  take(payload: Uint8Array, destination: SocketAddress): Outgoing {
    const n = payload.byteLength;
    if (n > POOL_MAX_BYTES) return new Outgoing(this.#carve(payload), destination, this.#core, undefined);
    const out = this.#free[n]?.pop();
    if (out === undefined) {
      const copy = new Uint8Array(new ArrayBuffer(n));
      copy.set(payload);
      return new Outgoing(copy, destination, this.#core, this);
    }
    out.bytes.set(payload);
    out.destination = destination;
    return out;
  }

  release(out: Outgoing): void {
    const n = out.bytes.byteLength;
    let free = this.#free[n];
    if (free === undefined) {
      free = [];
      this.#free[n] = free;
    }
    if (free.length < POOL_DEPTH) free.push(out);
  }

  /** A copy too large to pool. */
  #carve(payload: Uint8Array): Uint8Array {
    const n = payload.byteLength;
    if (n > SLAB_SIZE >>> 3) return payload.slice();
    let used = this.#slabUsed;
    if (used + n > SLAB_SIZE) {
      this.#slab = new ArrayBuffer(SLAB_SIZE);
      used = 0;
    }
    const copy = new Uint8Array(this.#slab, used, n);
    copy.set(payload);
    this.#slabUsed = (used + n + 7) & ~7;
    return copy;
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The `lookup` of the sockets {@link bindUdp} creates. node:dgram passes every send's address
 * through it; the default, `dns.lookup`, answers even an IP literal only on the next tick (after
 * a regex check), which costs a tick, a closure and the check per datagram. Machines address
 * datagrams with IP literals (`SocketAddress`), so once the socket is bound a literal is answered
 * at once and the send goes out synchronously. Anything else — a name, an IPv4 literal on an
 * IPv6 socket, and the bind itself (node emits `listening`/`error` from this callback) — still
 * goes through `dns.lookup`. A literal that only looks like one (`999.1.1.1`) fails in the send
 * with EINVAL, reported as a `send-error` like any other send failure.
 */
class LiteralLookup {
  bound = false;
  readonly #v6: boolean;

  constructor(v6: boolean) {
    this.#v6 = v6;
  }

  readonly lookup = (address: string, options: LookupOneOptions | number, callback: LookupCallback): void => {
    if (this.bound && (this.#v6 ? address.includes(':') : isIPv4Literal(address))) {
      callback(null, address, this.#v6 ? 6 : 4);
      return;
    }
    dnsLookup(address, options as LookupOneOptions, callback);
  };
}

/** Only digits and dots, dotted-quad length: what inet_pton will be asked to parse. */
function isIPv4Literal(address: string): boolean {
  const n = address.length;
  if (n < 7 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = address.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

/**
 * Bind a new UDP socket and run `machine` over it. Resolves once the socket is listening;
 * rejects (and leaves nothing open) when binding fails, e.g. with EADDRINUSE.
 */
export function bindUdp<M extends Machine<unknown>>(
  machine: M,
  options: BindOptions<EventOf<M>> = {},
): Promise<UdpDriver<M>> {
  const { address, port = 0, family, ipv6Only, reuseAddr, ...rest } = options;
  const v6 = family === undefined ? address !== undefined && isIPv6(address) : family === 'IPv6';
  const lookup = new LiteralLookup(v6);
  const socket = createSocket({
    type: v6 ? 'udp6' : 'udp4',
    ...(ipv6Only === undefined ? {} : { ipv6Only }),
    ...(reuseAddr === undefined ? {} : { reuseAddr }),
    lookup: lookup.lookup,
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      lookup.bound = true;
      resolve(new UdpDriver(machine, { socket, ...rest }));
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, address ?? (v6 ? '::' : '0.0.0.0'));
  });
}
