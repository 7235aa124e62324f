// Starts a real coturn (`turnserver`) on 127.0.0.1 for interop tests, in a temp dir, and
// guarantees it is stopped: by `stop()` (call it from afterAll), and by a kill on process exit.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SocketAddress } from '@natkit/sans-io';
import { spawnDaemon, waitUntilAnswering } from './processes.ts';

export interface Coturn {
  address: SocketAddress;
  /** Everything coturn printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export function hasTurnserver(): boolean {
  const probe = 'command -v turnserver && command -v turnutils_stunclient && command -v setpriv';
  return spawnSync('sh', ['-c', probe], { stdio: 'ignore' }).status === 0;
}

export const MISSING_COTURN =
  'coturn is not installed: run `bash scripts/setup-peers.sh` as root (or `apt-get install coturn`)';

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts coturn with the toolchain's loopback-only flags plus `extra`, and waits until it answers STUN. */
export async function startCoturn(extra: readonly string[] = []): Promise<Coturn> {
  if (!hasTurnserver()) throw new Error(MISSING_COTURN);
  const dir = mkdtempSync(join(tmpdir(), 'natkit-coturn-'));
  const port = await freeUdpPort();
  // Relay ports in a range derived from the listening port, so parallel servers rarely collide.
  const minPort = 49_152 + ((port * 7) % 12_000);
  const daemon = spawnDaemon(
    'turnserver',
    [
      '-n',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 200}`,
      '--fingerprint',
      '--allow-loopback-peers',
      '--no-multicast-peers',
      `--userdb=${join(dir, 'turndb')}`,
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      '--log-file=stdout',
      '--simple-log',
      ...extra,
    ],
    dir,
  );
  const address: SocketAddress = { address: '127.0.0.1', port, family: 'IPv4' };
  const stop = async (): Promise<void> => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(address, daemon.exited, 'turnserver');
  } catch (error) {
    await stop();
    throw new Error(`coturn did not come up: ${(error as Error).message}\n${daemon.output()}`);
  }
  return { address, log: daemon.output, stop };
}
