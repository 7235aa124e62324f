/** ice-lite under Deno, from source: the lite agent's answers and a full ↔ lite run in netsim. */
import assert from 'node:assert/strict';
import { IceAgent, IceRouter, pairPriority, parseCandidate } from '@natkit/ice-lite';
import { world } from '../test/harness.ts';
import { check, describeResponse, v4 } from '../test/peer.ts';

const creds = { ufrag: 'srvU', pwd: 'serverpassword22chars+' };
const server = v4('192.0.2.1', 3478);
const browser = v4('198.51.100.7', 50000);

Deno.test('a lite agent answers an authenticated check and selects on USE-CANDIDATE', () => {
  const a = new IceAgent({ credentials: creds });
  a.addLocalCandidate(server);
  assert.equal(
    a.handleInput(check({ username: 'srvU:b', pwd: creds.pwd, useCandidate: true }), browser, 0, server),
    'answered',
  );
  const r = describeResponse(a.pollTransmit()!.payload, creds.pwd);
  assert.equal(r.integrity, 'ok');
  assert.equal(r.fingerprint, 'ok');
  assert.deepEqual(r.mapped, browser);
  assert.equal(a.state, 'connected');
  assert.equal(
    a.handleInput(check({ username: 'nope:b', pwd: creds.pwd }), browser, 1, server),
    'unauthorized',
  );
});

Deno.test('the router finds agents by ufrag', () => {
  const router = new IceRouter();
  const a = new IceAgent({ credentials: creds });
  a.addLocalCandidate(server);
  router.add(a);
  assert.equal(
    router.handleInput(check({ username: 'srvU:b', pwd: creds.pwd }), browser, 0, server),
    'answered',
  );
  assert.ok(router.pollTransmit());
});

Deno.test('full ↔ lite connects in netsim', () => {
  const w = world({ modeB: 'lite' });
  w.signal();
  assert.ok(w.run(() => w.a.agent.state === 'completed' && w.b.agent.state === 'connected', 10_000));
});

Deno.test('SDP and priority helpers', () => {
  assert.equal(pairPriority(2130706431, 1694498815), 7277816997797167103n);
  const c = parseCandidate('candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host generation 0');
  assert.ok(c.ok);
});
