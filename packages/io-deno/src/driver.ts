import {
  DriverBase,
  type DriverOptions,
  type EventOf,
  errorCode,
  peerAddress,
  WILDCARD_ADDRESSES,
} from '@natkit/io-core';
import type { Machine, SocketAddress } from '@natkit/sans-io';

export type { EventOf };

/** An address as `Deno.DatagramConn` reports it (`Deno.Addr`, narrowed to what this package reads). */
export interface DenoAddr {
  transport: string;
  hostname?: string;
  port?: number;
}

/** The UDP address type `Deno.DatagramConn.send` takes. */
export interface DenoUdpAddr {
  transport: 'udp';
  hostname: string;
  port: number;
}

/**
 * The part of `Deno.DatagramConn` this driver uses; the object `Deno.listenDatagram` returns
 * satisfies it. Declared here so the package needs no Deno type library to build.
 */
export interface DatagramConn {
  readonly addr: DenoAddr;
  receive(buffer?: Uint8Array): Promise<[Uint8Array, DenoAddr]>;
  send(payload: Uint8Array, addr: DenoUdpAddr): Promise<number>;
  close(): void;
}

interface DenoNamespace {
  listenDatagram(options: { transport: 'udp'; hostname?: string; port: number }): DatagramConn;
}

/** Options for {@link UdpDriver} when the caller hands in a socket. */
export interface UdpDriverOptions<E> extends DriverOptions<E> {
  /** A socket from `Deno.listenDatagram({ transport: 'udp', ... })`. The driver owns it: `close()` closes it. */
  socket: DatagramConn;
  /** Clock in monotonic ms. Default `performance.now()`. */
  now?: () => number;
}

/** Options for {@link bindUdp}. */
export interface BindOptions<E> extends DriverOptions<E> {
  /** Local address. Default `0.0.0.0`, or `::` when `family` is `IPv6`. */
  address?: string;
  /** Local port; 0 (the default) picks a free one. */
  port?: number;
  /** Default: IPv6 when `address` contains a colon, else IPv4. */
  family?: 'IPv4' | 'IPv6';
  /** Clock in monotonic ms. Default `performance.now()`. */
  now?: () => number;
}

/** Datagrams are received into windows of one slab; a window must fit the largest UDP payload. */
const WINDOW = 65_536;
const SLAB = 4 * WINDOW;
/** Datagrams queued behind the send in flight before more are refused (`send-error`, ENOBUFS). */
const MAX_OUTBOX = 4096;

/** Deno's address as the machine sees it: IPv4 peers of a dual-stack socket as IPv4 (see `peerAddress`). */
function toSocketAddress(addr: DenoAddr): SocketAddress {
  const address = addr.hostname ?? '';
  return peerAddress(address, addr.port ?? 0, address.includes(':') ? 'IPv6' : 'IPv4');
}

/** Deno rejects a pending or new receive on a closed socket with these. */
function isClosedError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'BadResource' || name === 'Interrupted';
}

const runtime = globalThis as unknown as { Deno?: DenoNamespace };

/**
 * Runs one sans-IO {@link Machine} over one `Deno.listenDatagram` UDP socket, with the same
 * API and guarantees as `@natkit/io-node`'s driver:
 *
 * - each datagram: `handleInput(view, from, now)`; the view points into the buffer Deno
 *   received it in (no copy), then every `pollTransmit()` is sent and every `pollEvent()` delivered;
 * - exactly one timer is armed, for `pollTimeout()`; when it fires, `handleTimeout(now)`;
 * - `now` is `performance.now()`;
 * - socket errors, send failures and machine exceptions become events; the loop keeps running.
 *
 * After calling a method on the machine yourself, call {@link flush} (or use {@link update}).
 */
export class UdpDriver<M extends Machine<unknown>> extends DriverBase<M> {
  readonly socket: DatagramConn;
  readonly #local: SocketAddress;
  readonly #localForMachine: SocketAddress | undefined;
  readonly #receiving: Promise<void>;
  /** Datagrams (private copies) waiting for the send in flight. */
  readonly #outbox: { payload: Uint8Array; destination: SocketAddress }[] = [];
  #sender: Promise<void> | undefined;
  #slab = new Uint8Array(SLAB);
  #offset = 0;

  constructor(machine: M, options: UdpDriverOptions<EventOf<M>>) {
    const { socket, now = () => performance.now(), ...rest } = options;
    super(machine, now, rest);
    this.socket = socket;
    this.#local = toSocketAddress(socket.addr);
    this.#localForMachine = WILDCARD_ADDRESSES.has(this.#local.address) ? undefined : this.#local;
    this.#receiving = this.#receiveLoop();
    // A machine may have output or a deadline before the first datagram (a client that was started).
    this.core.flush();
  }

  /** The socket's local address. */
  get localAddress(): SocketAddress | undefined {
    return this.#local;
  }

  /**
   * Closes the socket (unless it was closed underneath) and waits for the pending receive and
   * sends to settle, so Deno's op and resource sanitizers see nothing left.
   */
  protected release(reason: 'close' | 'socket-closed'): Promise<void> {
    if (reason === 'close') {
      this.#outbox.length = 0;
      try {
        this.socket.close();
      } catch {
        // Already closed by someone else: nothing left to release.
      }
    }
    return this.#settle();
  }

  async #settle(): Promise<void> {
    await this.#receiving;
    await this.#sender;
  }

  /** Receive into the next window of the current slab, so each datagram is a view with no copy. */
  #window(): Uint8Array {
    if (SLAB - this.#offset < WINDOW) {
      // Views handed out earlier keep the old slab alive for as long as a machine holds them.
      this.#slab = new Uint8Array(SLAB);
      this.#offset = 0;
    }
    return this.#slab.subarray(this.#offset, this.#offset + WINDOW);
  }

  async #receiveLoop(): Promise<void> {
    while (!this.core.closed) {
      let received: [Uint8Array, DenoAddr];
      try {
        received = await this.socket.receive(this.#window());
      } catch (error) {
        if (this.core.closed) return;
        if (isClosedError(error)) {
          // Closed underneath us by the caller.
          void this.shutDown('socket-closed');
          return;
        }
        this.core.socketError(error, errorCode(error));
        // Never spin on an error that repeats: let timers and other tasks run first.
        await new Promise((resolve) => setTimeout(resolve, 0));
        continue;
      }
      const [data, addr] = received;
      // Keep the next window 8-byte aligned after this datagram's bytes.
      this.#offset += (data.byteLength + 7) & ~7;
      this.core.input(data, toSocketAddress(addr), this.#localForMachine);
    }
  }

  // Not setImmediate: Deno runs a chain of immediates for dozens of turns before it polls
  // sockets again, whereas a 0 ms timer lets pending receives complete first.
  protected yieldToIo(fn: () => void): unknown {
    return setTimeout(fn, 0);
  }

  protected cancelYield(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }

  protected transmit(payload: Uint8Array, destination: SocketAddress): void {
    if (this.#outbox.length >= MAX_OUTBOX) {
      this.core.sendError(new Error('send queue full'), 'ENOBUFS', destination, payload.byteLength);
      return;
    }
    // Deno reads the bytes after send() returns, while the machine may reuse `payload` on its
    // next call: queue a private copy.
    this.#outbox.push({ payload: payload.slice(), destination });
    this.#sender ??= this.#drainOutbox();
  }

  /**
   * One send in flight at a time: Deno completes concurrent sends in any order, and a driver
   * must not reorder a machine's datagrams. The first send starts synchronously.
   */
  async #drainOutbox(): Promise<void> {
    for (let item = this.#outbox.shift(); item !== undefined; item = this.#outbox.shift()) {
      const { payload, destination } = item;
      try {
        await this.socket.send(payload, {
          transport: 'udp',
          hostname: destination.address,
          port: destination.port,
        });
      } catch (error) {
        this.core.sendError(error, errorCode(error), destination, payload.byteLength);
      }
    }
    this.#sender = undefined;
  }
}

/**
 * Open a UDP socket with `Deno.listenDatagram` (needs `--unstable-net` or `"unstable": ["net"]`
 * in deno.json, and `--allow-net`) and run `machine` over it. Rejects when binding fails.
 */
export async function bindUdp<M extends Machine<unknown>>(
  machine: M,
  options: BindOptions<EventOf<M>> = {},
): Promise<UdpDriver<M>> {
  const { address, port = 0, family, ...rest } = options;
  const deno = runtime.Deno;
  if (deno === undefined || typeof deno.listenDatagram !== 'function')
    throw new Error('Deno.listenDatagram is unavailable: run under Deno with --unstable-net');
  const v6 = family === undefined ? address?.includes(':') === true : family === 'IPv6';
  const socket = deno.listenDatagram({
    transport: 'udp',
    hostname: address ?? (v6 ? '::' : '0.0.0.0'),
    port,
  });
  return new UdpDriver(machine, { socket, ...rest });
}
