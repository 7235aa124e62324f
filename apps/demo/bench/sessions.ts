/**
 * 1k / 10k / 100k idle ICE-lite sessions behind the one socket's Mux (StunServer, StunClient
 * and ice-lite's IceRouter): heap memory per session, and the cost of one connectivity check
 * (Mux demux → router → agent: MESSAGE-INTEGRITY + FINGERPRINT verified, response built and
 * pulled) at each size. Goal: cost per check flat within 20 %.
 *
 * Memory: each size in a fresh process (a heap delta around creating the sessions).
 * Cost: six hosts (three sizes × two layouts) side by side in one process, timed in interleaved rounds
 * (scripts/bench-rounds.ts) — this machine's speed drifts more between two runs, or two
 * processes, than the effect being measured. Checks go to the same 256 busy sessions at every
 * size, each from its own peer address: the newest 256 (a server's busy sessions are mostly its
 * recent ones), and, as the harder case, 256 scattered at random over the whole table.
 *
 * Run: pnpm --filter @natkit/demo bench   (node --expose-gc for the memory numbers)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SocketAddress } from '@natkit/sans-io';
import { IntegrityKey, MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import {
  type BusyLayout,
  busyIndex,
  formatRounds,
  interleavedRounds,
  SCALING_GRID,
  scalingName,
} from '../../../scripts/bench-rounds.ts';
import { NatHost } from '../src/host.ts';

const SIZES = [...new Set(SCALING_GRID.map((c) => c.n))];
const BUSY = 256;
const LOCAL: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };
const gc = (globalThis as { gc?: () => void }).gc;

const memoryOf = process.env.BENCH_MEMORY_OF;
if (memoryOf !== undefined) {
  // Child: heap per session for one size.
  const n = Number(memoryOf);
  const heap = (): number => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  const host = new NatHost({ localAddress: LOCAL });
  for (let i = 0; i < n; i++) host.createSession({ mode: 'lite' }, 0);
  const perSession = (heap() - before) / n;
  // Use `host` after the measurement: once its last use is behind, optimised code may let the
  // collector take it (and the sessions) before the second heap reading.
  if (host.mux.pollTimeout() === -1) console.log('unreachable');
  console.log(`${(perSession / 1024).toFixed(2)}${gc ? '' : ' (approximate: no --expose-gc)'}`);
  process.exit(0);
}

/** A host with `n` lite sessions and one check for each of `BUSY` of them. */
function hostWith(n: number, layout: BusyLayout) {
  const host = new NatHost({ localAddress: LOCAL });
  const sessions = [];
  for (let i = 0; i < n; i++) sessions.push(host.createSession({ mode: 'lite' }, 0));
  const checks: { bytes: Uint8Array; from: SocketAddress }[] = [];
  const b = new MessageBuilder();
  for (let k = 0; k < BUSY; k++) {
    const s = sessions[busyIndex(k, n, BUSY, layout)]!;
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
    const c = checks[i++ % BUSY]!;
    now += 0.01;
    host.mux.handleInput(c.bytes, c.from, now);
    while (host.mux.pollTransmit() !== undefined);
  };
  // Every peer becomes a known (peer-reflexive) remote candidate.
  for (let k = 0; k < BUSY; k++) check();
  return check;
}

const self = fileURLToPath(import.meta.url);
const memory = SIZES.map((n) => {
  const r = spawnSync(process.execPath, [...process.execArgv, self], {
    env: { ...process.env, BENCH_MEMORY_OF: String(n) },
    encoding: 'utf8',
  });
  process.stderr.write(r.stderr);
  return `${n} sessions: ${r.stdout.trim()} KiB heap per session`;
});

const cases = SCALING_GRID.map(({ n, layout, baseline }) => ({
  name: scalingName(n, layout, 'sessions'),
  baseline,
  op: hostWith(n, layout),
}));
console.log('idle ICE-lite sessions behind one Mux:');
for (const line of memory) console.log(`  ${line}`);
console.log(`cost of one check → answer, ${BUSY} busy sessions (CPU time, interleaved rounds):`);
for (const line of formatRounds(interleavedRounds(cases, { rounds: 101, batch: 1024 }), 'check'))
  console.log(`  ${line}`);
