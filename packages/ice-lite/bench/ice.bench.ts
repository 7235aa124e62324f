/**
 * @natkit/ice-lite benchmarks (mitata):
 *   1. checks answered per second by one lite agent (decode, FINGERPRINT, MESSAGE-INTEGRITY,
 *      response with XOR-MAPPED-ADDRESS + MESSAGE-INTEGRITY + FINGERPRINT);
 *   2. the same through an IceRouter holding 10 000 agents;
 *   3. the cost per check through the router at 1k vs 10k vs 100k agents (routing must stay O(1));
 *   4. memory per idle lite session (connected, nothing in flight), measured with the heap.
 *
 * Run: pnpm --filter @natkit/ice-lite bench   (add --expose-gc to node for the memory figure:
 * the script re-runs itself with it).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SocketAddress } from '@natkit/sans-io';
import { MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import { bench, do_not_optimize, group, run } from 'mitata';
import {
  type BusyLayout,
  busyIndex,
  formatRounds,
  interleavedRounds,
  SCALING_GRID,
  scalingName,
} from '../../../scripts/bench-rounds.ts';
import { IceAgent, IceRouter, setIntegrityKeyCacheSize } from '../src/index.ts';

const server: SocketAddress = { address: '192.0.2.1', port: 3478, family: 'IPv4' };
const peer: SocketAddress = { address: '198.51.100.7', port: 50000, family: 'IPv4' };

function credsFor(i: number) {
  const n = i.toString(36).padStart(6, '0');
  return { ufrag: `u${n}`, pwd: `p${n}${'x'.repeat(16)}` };
}

/** A Chromium-like check: USERNAME, ICE-CONTROLLING, PRIORITY, USE-CANDIDATE, MI, FINGERPRINT. */
function checkFor(c: { ufrag: string; pwd: string }, seq: number): Uint8Array {
  const tid = new Uint8Array(12);
  new DataView(tid.buffer).setUint32(0, seq);
  return new MessageBuilder()
    .reset(Method.Binding, MessageClass.Request, tid)
    .addUsername(`${c.ufrag}:brws`)
    .addIceControlling(0x1234567890abcdefn)
    .addPriority(1853817087)
    .addUseCandidate()
    .addMessageIntegrity(shortTermKey(c.pwd))
    .addFingerprint()
    .build();
}

function liteAgent(i: number): IceAgent {
  const a = new IceAgent({ credentials: credsFor(i) });
  a.addLocalCandidate(server);
  return a;
}

/**
 * A router with `n` agents, and 4096 checks for `active` of them (consecutive checks go to
 * different agents): `spread` picks agents at random over the whole table, `newest` the last
 * `active` created (a server's busy sessions are mostly its recent ones).
 */
function routerWith(
  n: number,
  active: number,
  layout: BusyLayout = 'spread',
): { router: IceRouter; checks: Uint8Array[] } {
  const router = new IceRouter();
  for (let i = 0; i < n; i++) router.add(liteAgent(i));
  const checks: Uint8Array[] = [];
  for (let k = 0; k < 4096; k++) checks.push(checkFor(credsFor(busyIndex(k % active, n, active, layout)), k));
  for (const c of checks) {
    router.handleInput(c, peer, 0, server);
    while (router.pollTransmit());
  }
  while (router.pollEvent());
  return { router, checks };
}

if (process.argv[2] === '--memory') {
  // Memory per idle lite session: agents that answered one nominating check (connected, a
  // prflx remote candidate, a selected pair) and then went quiet.
  const gc1 = (globalThis as { gc?: () => void }).gc!;
  // Several full collections: one leaves young-generation survivors and weak refs around.
  const gc = () => {
    for (let k = 0; k < 4; k++) gc1();
  };
  const n = 20_000;
  // Keep the process-wide integrity-key cache out of the per-session figure (it is bounded and
  // shared: at most `setIntegrityKeyCacheSize` keys, ~0.4–1 KB each, whatever the session count).
  setIntegrityKeyCacheSize(16);
  const keep: IceAgent[] = [];
  const req = (i: number) => checkFor(credsFor(i), i);
  const reqs = Array.from({ length: n }, (_, i) => req(i));
  gc();
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = used();
  for (let i = 0; i < n; i++) {
    const a = liteAgent(i);
    a.handleInput(reqs[i]!, peer, 0, server);
    while (a.pollTransmit());
    while (a.pollEvent());
    keep.push(a);
  }
  gc();
  const perSession = (used() - before) / n;
  const fresh: IceAgent[] = [];
  gc();
  const before2 = used();
  for (let i = 0; i < n; i++) fresh.push(liteAgent(n + i));
  gc();
  const perFresh = (used() - before2) / n;
  // The same, hosted by a router (its Map entries and heap entry included).
  const reqs3 = Array.from({ length: n }, (_, i) => req(2 * n + i));
  const router = new IceRouter();
  gc();
  const before3 = used();
  for (let i = 0; i < n; i++) {
    const a = liteAgent(2 * n + i);
    router.add(a);
    router.handleInput(reqs3[i]!, peer, 0, server);
    while (router.pollTransmit());
    while (router.pollEvent());
  }
  gc();
  const perRouted = (used() - before3) / n;
  console.log(
    `memory per idle lite session: ${perSession.toFixed(0)} B connected (after one nominating check), ${perFresh.toFixed(0)} B fresh (no check yet), ${perRouted.toFixed(0)} B connected inside an IceRouter — ${keep.length + fresh.length + router.size} agents`,
  );
  process.exit(0);
}

const one = liteAgent(0);
const oneChecks = Array.from({ length: 4096 }, (_, k) => checkFor(credsFor(0), k));
one.handleInput(oneChecks[0]!, peer, 0, server);
while (one.pollTransmit());
while (one.pollEvent());
let i1 = 0;
group('one lite agent', () => {
  bench('answer one check (handleInput + pollTransmit)', () => {
    one.handleInput(oneChecks[i1++ & 4095]!, peer, 0, server);
    do_not_optimize(one.pollTransmit());
    one.pollTransmit();
  });
});

// Every agent's key fits in the integrity-key cache, so the figures compare routing, not HMAC setup.
setIntegrityKeyCacheSize(200_000);
const router10k = routerWith(10_000, 4096);
{
  const { router, checks } = router10k;
  let i = 0;
  group('router with 10000 agents', () => {
    bench('answer one check via the router (10000 agents, 4096 of them active)', () => {
      router.handleInput(checks[i++ & 4095]!, peer, 0, server);
      do_not_optimize(router.pollTransmit());
      router.pollTransmit();
    });
  });
}
// Cost when the key cache is smaller than the working set: every check rebuilds its HMAC key.
{
  const { router, checks } = router10k;
  let i = 0;
  group('router with 10000 agents, integrity-key cache of 1024', () => {
    bench('answer one check, key cache missing', () => {
      setIntegrityKeyCacheSize(1024);
      router.handleInput(checks[i++ & 4095]!, peer, 0, server);
      do_not_optimize(router.pollTransmit());
      router.pollTransmit();
    });
  });
}

const results = await run();
setIntegrityKeyCacheSize(200_000);
// Summary lines: checks answered per second per scenario.
for (const b of results.benchmarks) {
  for (const r of b.runs) {
    const st = r.stats;
    // The median is the steady-state figure; the mean also carries GC pauses and other load.
    if (st !== undefined) {
      console.log(
        `${r.name}: median ${st.p50.toFixed(0)} ns/check = ${(1e9 / st.p50).toFixed(0)} checks/s (mean ${st.avg.toFixed(0)} ns)`,
      );
    }
  }
}

// Cost per check against the number of agents. Each router holds n agents; the checks go to
// the same 256 of them at every size, so what changes is how many agents sit idle beside them
// (their Map entries, their heap). Two layouts, each compared with itself at 1k: the newest
// 256 (a server's busy sessions are mostly its recent ones), and 256 scattered at random over the
// table (every busy agent among idle ones, so the memory a check touches is scattered). The
// cases are timed in interleaved rounds (scripts/bench-rounds.ts): this machine's speed drifts
// more between two runs than the effect being measured.
const ACTIVE = 256;
const scaling = SCALING_GRID.map(({ n, layout, baseline }) => {
  const { router, checks } = routerWith(n, ACTIVE, layout);
  let i = 0;
  return {
    name: scalingName(n, layout, 'agents'),
    baseline,
    op: () => {
      router.handleInput(checks[i++ & 4095]!, peer, 0, server);
      while (router.pollTransmit() !== undefined);
    },
  };
});
console.log(`\ncost per check through the router, ${ACTIVE} busy agents (CPU time, interleaved rounds):`);
for (const line of formatRounds(interleavedRounds(scaling, { rounds: 101, batch: 1024 }), 'check'))
  console.log(`  ${line}`);

const self = fileURLToPath(import.meta.url);
const mem = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, self, '--memory'], {
  encoding: 'utf8',
});
process.stdout.write(mem.stdout || mem.stderr);
