/**
 * 1k / 10k / 100k idle ICE-lite sessions behind the one socket's Mux (StunServer, StunClient
 * and ice-lite's IceRouter): heap memory per session, and the cost of one connectivity check
 * (Mux demux → router → agent: MESSAGE-INTEGRITY + FINGERPRINT verified, response built and
 * pulled) at each size. Goal: cost per check flat within 20 %.
 *
 * Each size runs in a fresh process (measured in one process, whichever size went first was
 * the slowest: GC and JIT state, not the size). Checks go to 256 sessions spread over the
 * whole table, each from its own peer address.
 *
 * Run: pnpm --filter @natkit/demo bench   (needs node --expose-gc for the memory numbers)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SocketAddress } from '@natkit/sans-io';
import { IntegrityKey, MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import { bench, do_not_optimize, run } from 'mitata';
import { NatHost } from '../src/host.ts';

const SIZES = (process.env.BENCH_SESSIONS ?? '1000,10000,100000').split(',').map(Number);

if (SIZES.length > 1) {
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const n of SIZES) {
    const r = spawnSync(process.execPath, [...process.execArgv, self], {
      env: { ...process.env, BENCH_SESSIONS: String(n), NO_COLOR: '1' },
      encoding: 'utf8',
    });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    const row = /^RESULT (.*)$/m.exec(r.stdout)?.[1];
    if (row !== undefined) rows.push(row);
  }
  console.log('\nidle ICE-lite sessions behind one Mux:');
  for (const row of rows) console.log(`  ${row}`);
  process.exit(0);
}

const n = SIZES[0]!;
const LOCAL: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };
const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const before = heap();
const host = new NatHost({ localAddress: LOCAL });
const sessions = [];
for (let i = 0; i < n; i++) sessions.push(host.createSession({ mode: 'lite' }, 0));
const bytesPerSession = (heap() - before) / n;

const checks: { bytes: Uint8Array; from: SocketAddress }[] = [];
const b = new MessageBuilder();
for (let k = 0; k < 256; k++) {
  const s = sessions[Math.floor((k * n) / 256)]!;
  const bytes = b
    .reset(Method.Binding, MessageClass.Request, crypto.getRandomValues(new Uint8Array(12)))
    .addUsername(`${s.local.ufrag}:peer`)
    .addPriority(0x6e7f1eff)
    .addIceControlling(42n)
    .addMessageIntegrity(new IntegrityKey(shortTermKey(s.local.pwd)))
    .addFingerprint()
    .build();
  checks.push({ bytes, from: { address: '203.0.113.9', port: 10000 + k, family: 'IPv4' } });
}

let now = 1;
let i = 0;
const check = (): void => {
  const c = checks[i++ & 255]!;
  now += 0.01;
  host.mux.handleInput(c.bytes, c.from, now);
  do_not_optimize(host.mux.pollTransmit());
  while (host.mux.pollTransmit() !== undefined);
};
// Warm: every peer becomes a known (peer-reflexive) remote candidate, the code gets optimised.
for (let k = 0; k < 20_000; k++) check();
gc?.();

bench(`check → answer, ${n} sessions`, check);
const result = await run();
const avg = result.benchmarks[0]?.runs[0]?.stats?.avg;
console.log(
  `RESULT ${String(n).padStart(7)} sessions: ${(bytesPerSession / 1024).toFixed(2)} KiB heap per session${gc ? '' : ' (approximate: no --expose-gc)'}, ` +
    `${avg === undefined ? '?' : (avg / 1000).toFixed(2)} µs per check`,
);
