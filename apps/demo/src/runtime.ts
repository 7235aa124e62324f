import type { DriverBase } from '@natkit/io-core';
import type { Machine, SocketAddress } from '@natkit/sans-io';

/**
 * What the app needs from its runtime (Node through io-node, Deno through io-deno): one UDP
 * socket running one machine, a monotonic clock, and how to start the stand-in remote.
 * Everything else (HTTP, child processes, signals) goes through `node:*` modules, which both
 * runtimes provide.
 */
export interface BoundSocket {
  readonly localAddress: SocketAddress;
  /** Run `fn` (which calls into the machine), then send its output and re-arm its timer. */
  update<R>(fn: () => R): R;
  /** Datagrams in/out as the driver counted them. */
  readonly counters: { datagramsIn: number; datagramsOut: number };
  close(): Promise<void>;
}

export interface Runtime {
  readonly name: string;
  now(): number;
  /** Binds a UDP socket and runs `machine` over it; rejects on EADDRINUSE and the like. */
  bind(machine: Machine<unknown>, address: string, port: number): Promise<BoundSocket>;
  /** Resolves with the name of the first SIGINT/SIGTERM received (and keeps them from killing us). */
  waitForSignal(): Promise<'SIGINT' | 'SIGTERM'>;
  /** Command line that runs `script` (an absolute path to a .ts file) as a child process. */
  scriptCommand(script: string): { command: string; args: string[] };
}

/** A bound io-node or io-deno driver, seen as the app's {@link BoundSocket}. */
export function boundSocket(driver: DriverBase<Machine<unknown>>): BoundSocket {
  const local = driver.localAddress;
  if (local === undefined) throw new Error('socket bound without an address');
  return {
    localAddress: local,
    update: (fn) => driver.update(fn),
    get counters() {
      return { datagramsIn: driver.stats.datagramsIn, datagramsOut: driver.stats.datagramsOut };
    },
    close: () => driver.close(),
  };
}
