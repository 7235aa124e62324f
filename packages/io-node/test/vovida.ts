// Vovida's classic STUN (RFC 3489) programs from Debian, version 0.97: `stund` (server) and
// `stun` (client, runs RFC 3489 §10.1's NAT-type tests), started on loopback for interop tests.
// Every process is killed by `stop()` / on exit, and by the kernel if the test worker dies.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import type { SocketAddress } from '@natkit/sans-io';
import { spawnDaemon, waitUntilAnswering } from './processes.ts';

/**
 * Debian's paths, spelled out: under pnpm/vitest `node_modules/.bin` comes first in PATH, and
 * there `stun` is the npm package's CLI (a STUN server), not Vovida's client.
 */
export const STUND = '/usr/sbin/stund';
export const STUN_CLIENT = '/usr/bin/stun';

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Why the Vovida tests cannot run here, or undefined when they can. */
export function vovidaUnavailable(): string | undefined {
  const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { stdio: 'ignore' }).status === 0;
  if (!executable(STUND) || !executable(STUN_CLIENT) || !setpriv) {
    return 'Vovida stund/stun are not installed: run `bash scripts/setup-peers.sh` as root (or `apt-get install stun-server stun-client`)';
  }
  return undefined;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const bindOn = async (address: string, port: number): Promise<Socket | undefined> => {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => s.close(() => resolve(undefined)));
    s.bind(port, address, () => resolve(s));
  });
};
const close = (s: Socket | undefined) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));

/**
 * A port p such that p and p + 1 were free a moment ago on every address in `addresses`
 * (Vovida's client takes srcPort and srcPort + 1; stund takes its two ports on both addresses).
 */
export async function freePortPair(addresses: readonly string[] = ['127.0.0.1']): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await bindOn(addresses[0] ?? '127.0.0.1', 0);
    const port = first?.address().port ?? 0;
    const held: (Socket | undefined)[] = [first];
    let ok = first !== undefined && port < 65_535;
    for (const a of addresses) {
      for (const p of [port, port + 1]) {
        if (!ok || (a === addresses[0] && p === port)) continue;
        const s = await bindOn(a, p);
        held.push(s);
        if (s === undefined) ok = false;
      }
    }
    await Promise.all(held.map(close));
    if (ok) return port;
  }
  throw new Error('no free UDP port pair');
}

export interface Stund {
  /** Primary address A1:P1 (127.0.0.1). */
  address: SocketAddress;
  /** The alternate address A2:P2 (127.0.0.2) that stund reports as CHANGED-ADDRESS. */
  alternate: SocketAddress;
  /** Everything stund printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * `stund -h 127.0.0.1 -a 127.0.0.2 -p P -o P+1 -v` in the foreground (no -b), waiting until it
 * answers a Binding request. Both addresses are loopback on Linux (127/8).
 */
export async function startStund(): Promise<Stund> {
  let lastError: unknown;
  // A port picked a moment ago can be taken by a parallel test before stund binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePortPair(['127.0.0.1', '127.0.0.2']);
    const args = ['-h', '127.0.0.1', '-a', '127.0.0.2', '-p', String(port), '-o', String(port + 1), '-v'];
    const daemon = spawnDaemon(STUND, args);
    const address: SocketAddress = { address: '127.0.0.1', port, family: 'IPv4' };
    try {
      await waitUntilAnswering(address, daemon.exited, 'stund');
      return {
        address,
        alternate: { address: '127.0.0.2', port: port + 1, family: 'IPv4' },
        log: daemon.output,
        stop: daemon.stop,
      };
    } catch (error) {
      await daemon.stop();
      lastError = new Error(`stund did not come up: ${(error as Error).message}\n${daemon.output()}`);
    }
  }
  throw lastError;
}

export interface StunRun {
  /** Exit status (Vovida's NAT-type code for the full test), or null when killed. */
  code: number | null;
  /** What it printed on stdout: the version, the verdict line and "Return value is 0x…". */
  stdout: string;
  /** With -v, the decoded messages and the per-test flags ("test I = 1", …). */
  stderr: string;
}

/**
 * Runs Vovida's client `stun <server> [test] -v -p srcPort` to completion. It never waits
 * forever (its tests give up after a few retransmissions), but a hard kill after `limitMs`
 * bounds it anyway; the child is killed in `finally` whatever happens.
 */
export async function runStunClient(
  server: SocketAddress,
  srcPort: number,
  test?: number,
  limitMs = 20_000,
): Promise<StunRun> {
  const args = [`${server.address}:${server.port}`, ...(test === undefined ? [] : [String(test)])];
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', STUN_CLIENT, ...args, '-v', '-p', String(srcPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (running.delete(child) && child.exitCode === null) child.kill('SIGKILL');
  }
}
