/** stun-agent under Deno, from source: the retransmission schedule and a long-term-auth exchange. */
import assert from 'node:assert/strict';
import type { SocketAddress } from '@natkit/sans-io';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';

const ME: SocketAddress = { address: '192.0.2.10', port: 50000, family: 'IPv4' };
const SRV: SocketAddress = { address: '198.51.100.1', port: 3478, family: 'IPv4' };

Deno.test('retransmits at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and fails at 39.5 s', () => {
  const c = new StunClient();
  c.request(SRV, 0);
  const sends: number[] = [];
  let failedAt: number | undefined;
  let now = 0;
  for (;;) {
    while (c.pollTransmit()) sends.push(now);
    for (let e = c.pollEvent(); e; e = c.pollEvent()) if (e.type === 'failure') failedAt = now;
    const t = c.pollTimeout();
    if (t === undefined) break;
    now = t;
    c.handleTimeout(now);
  }
  assert.deepEqual(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(failedAt, 39500);
});

Deno.test('long-term credentials: 401 → retry → success through the real crypto', () => {
  const client = new StunClient({
    credentials: { type: 'long-term', username: 'alice', password: 'wonderland' },
  });
  const server = new StunServer({
    auth: {
      type: 'long-term',
      realm: 'example.org',
      password: (u) => (u === 'alice' ? 'wonderland' : undefined),
    },
  });
  client.request(SRV, 0);
  const events: StunClientEvent[] = [];
  for (let round = 0; round < 4; round++) {
    for (let t = client.pollTransmit(); t; t = client.pollTransmit())
      server.handleInput(t.payload, ME, round);
    for (let t = server.pollTransmit(); t; t = server.pollTransmit())
      client.handleInput(t.payload, SRV, round);
    for (let e = client.pollEvent(); e; e = client.pollEvent()) events.push(e);
  }
  assert.equal(events.length, 1);
  const [e] = events;
  assert.equal(e?.type, 'success');
  if (e?.type === 'success') assert.deepEqual(e.mappedAddress, ME);
  assert.equal(server.stats.unauthenticated, 1);
  assert.equal(server.stats.success, 1);
});
