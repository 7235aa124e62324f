/**
 * 1k / 10k / 100k idle ICE-lite sessions behind the one socket's Mux (StunServer, StunClient
 * and ice-lite's IceRouter): heap memory per session, and the cost of one connectivity check
 * (Mux demux → router → agent: MESSAGE-INTEGRITY + FINGERPRINT verified, response built and
 * pulled) at each size. Goal: cost per check flat within 20 %.
 *
 * Run: pnpm --filter @natkit/demo bench   (needs --expose-gc for the memory numbers)
 */
import type { SocketAddress } from '@natkit/sans-io';
import { IntegrityKey, MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { NatHost } from '../src/host.ts';

const SIZES = (process.env.BENCH_SESSIONS ?? '1000,10000,100000').split(',').map(Number);
const LOCAL: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };
const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

interface World {
  host: NatHost;
  checks: { bytes: Uint8Array; from: SocketAddress }[];
  bytesPerSession: number;
}

function build(n: number): World {
  const before = heap();
  const host = new NatHost({ localAddress: LOCAL });
  const sessions = [];
  for (let i = 0; i < n; i++) sessions.push(host.createSession({ mode: 'lite' }, 0));
  const after = heap();
  // 256 checks on sessions spread over the whole table, each from its own peer address.
  const checks = [];
  const b = new MessageBuilder();
  for (let k = 0; k < 256; k++) {
    const s = sessions[Math.floor((k * n) / 256)]!;
    const tid = crypto.getRandomValues(new Uint8Array(12));
    const bytes = b
      .reset(Method.Binding, MessageClass.Request, tid)
      .addUsername(`${s.local.ufrag}:peer`)
      .addPriority(0x6e7f1eff)
      .addIceControlling(42n)
      .addMessageIntegrity(new IntegrityKey(shortTermKey(s.local.pwd)))
      .addFingerprint()
      .build();
    checks.push({
      bytes,
      from: { address: '203.0.113.9', port: 10000 + k, family: 'IPv4' } as SocketAddress,
    });
  }
  return { host, checks, bytesPerSession: (after - before) / n };
}

const memory: string[] = [];
let now = 1;
summary(() => {
  for (const n of SIZES) {
    const w = build(n);
    memory.push(
      `  ${String(n).padStart(7)} sessions: ${(w.bytesPerSession / 1024).toFixed(2)} KiB heap per session`,
    );
    let i = 0;
    // Warm up: every check's peer becomes a known (peer-reflexive) remote candidate first.
    for (const c of w.checks) {
      w.host.mux.handleInput(c.bytes, c.from, now);
      while (w.host.mux.pollTransmit() !== undefined);
    }
    bench(`check → answer, ${n} sessions`, () => {
      const c = w.checks[i++ & 255]!;
      now += 0.01;
      w.host.mux.handleInput(c.bytes, c.from, now);
      do_not_optimize(w.host.mux.pollTransmit());
      while (w.host.mux.pollTransmit() !== undefined);
    });
  }
});

await run();
console.log(`\nmemory${gc ? '' : ' (approximate: run node with --expose-gc)'}:`);
for (const m of memory) console.log(m);
