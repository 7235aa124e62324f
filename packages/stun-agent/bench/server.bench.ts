/**
 * How many Binding responses a StunServer builds per second:
 *   1. plain Binding request → XOR-MAPPED-ADDRESS (the public-STUN-server case);
 *   2. with FINGERPRINT mirrored;
 *   3. short-term authenticated (MESSAGE-INTEGRITY verified and added, ICE-style);
 *   4. non-STUN garbage (the cost of a flood that is dropped).
 * Each iteration handles one request and polls its response. Prints mitata's table, then
 * responses per second for each.
 *
 * Run: pnpm --filter @natkit/stun-agent bench
 */
import type { SocketAddress } from '@natkit/sans-io';
import { IntegrityKey, MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import { bench, do_not_optimize, run } from 'mitata';
import { StunServer } from '../src/index.ts';

const FROM: SocketAddress = { address: '192.0.2.77', port: 54321, family: 'IPv4' };
const ID = new Uint8Array(12).fill(7);

const plain = new MessageBuilder().reset(Method.Binding, MessageClass.Request, ID).build();
const withFp = new MessageBuilder().reset(Method.Binding, MessageClass.Request, ID).addFingerprint().build();
const key = new IntegrityKey(shortTermKey('pass'));
const authed = new MessageBuilder()
  .reset(Method.Binding, MessageClass.Request, ID)
  .addUsername('remote:local')
  .addPriority(0x6e0001ff)
  .addIceControlling(1n)
  .addMessageIntegrity(key)
  .addFingerprint()
  .build();
const garbage = new Uint8Array(100).fill(0x80);

const server = new StunServer();
const authServer = new StunServer({ auth: { type: 'short-term', password: () => key } });

function answer(s: StunServer, req: Uint8Array): void {
  s.handleInput(req, FROM, 0);
  do_not_optimize(s.pollTransmit());
}

bench('Binding → XOR-MAPPED-ADDRESS', () => answer(server, plain));
bench('Binding + FINGERPRINT', () => answer(server, withFp));
bench('Binding, short-term auth (MI + FP)', () => answer(authServer, authed));
bench('non-STUN datagram (dropped)', () => answer(server, garbage));

const result = await run();
for (const trial of result.benchmarks) {
  const avg = trial.runs[0]?.stats?.avg;
  if (avg) console.log(`${trial.alias}: ${Math.round(1e9 / avg).toLocaleString('en-US')} per second`);
}
