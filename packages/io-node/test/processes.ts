// Child processes that speak one JSON object per stdout line (the interop fixtures), and
// waiting for a third-party STUN server process to answer.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SocketAddress } from '@natkit/sans-io';
import { StunClient } from '@natkit/stun-agent';
import { bindUdp } from '../src/index.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DENO = `${ROOT}node_modules/.bin/deno`;
export const TSX = `${ROOT}node_modules/.bin/tsx`;
export const DENO_ENV = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };

export interface JsonProcess {
  child: ChildProcess;
  /** The next JSON line that `match` accepts (lines are kept until read). */
  line<T = Record<string, unknown>>(match?: (v: Record<string, unknown>) => boolean): Promise<T>;
  /** stderr so far, for failure messages. */
  stderr(): string;
  /** Close its stdin (our fixtures stop then), wait for the exit; SIGKILL after 5 s. */
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function spawnJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): JsonProcess {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (v: Record<string, unknown>) => boolean; resolve: (v: unknown) => void }[] = [];
  let buffered = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  child.stdout?.on('data', (d) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!text.startsWith('{')) continue;
      const value = JSON.parse(text) as Record<string, unknown>;
      const w = waiters.findIndex((x) => x.match(value));
      if (w >= 0) waiters.splice(w, 1)[0]?.resolve(value);
      else lines.push(value);
    }
  });
  return {
    child,
    line<T>(match: (v: Record<string, unknown>) => boolean = () => true): Promise<T> {
      const i = lines.findIndex(match);
      if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0] as T);
      return Promise.race([
        new Promise<T>((resolve) => waiters.push({ match, resolve: resolve as (v: unknown) => void })),
        exited.then((code) => {
          throw new Error(`${cmd} exited (${code}) before the expected line\n${err}`);
        }),
      ]);
    },
    stderr: () => err,
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A third-party server process (coturn, stund) started by {@link spawnDaemon}. */
export interface Daemon {
  readonly exited: Promise<void>;
  /** Its stdout and stderr so far, for failure messages. */
  output(): string;
  /** SIGTERM, SIGKILL after 2 s; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `cmd args` under `setpriv --pdeathsig KILL`, so the kernel kills it if the test worker
 * dies without running exit handlers, and kills it on this process's exit otherwise.
 */
export function spawnDaemon(cmd: string, args: readonly string[], cwd?: string): Daemon {
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', cmd, ...args], {
    cwd: cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    exited,
    output: () => output,
    async stop() {
      if (!children.delete(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `server` with Binding requests until it answers (a success or an error response both
 * mean it is listening); rejects when `exited` settles first (the process `name` died) or the
 * transaction fails.
 */
export async function waitUntilAnswering(
  server: SocketAddress,
  exited: Promise<void>,
  name: string,
): Promise<void> {
  const driver = await bindUdp(new StunClient({ rto: 100, rc: 8, rm: 16 }), { address: '127.0.0.1' });
  try {
    const answered = driver.waitFor((e) => e.type === 'machine');
    driver.update((c) => c.request(server, driver.now()));
    const outcome = await Promise.race([answered, exited.then(() => 'exited' as const)]);
    if (outcome === 'exited') throw new Error(`${name} exited`);
    if (outcome.type === 'machine' && outcome.event.type === 'failure') throw new Error(outcome.event.detail);
  } finally {
    await driver.close();
  }
}
