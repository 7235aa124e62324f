/** ice-lite under Deno, from source: the lite agent's answers, IceTransport's data path and a full ↔ lite run in netsim. */
import assert from 'node:assert/strict';
import { IceAgent, IceRouter, IceTransport, pairPriority, parseCandidate } from '@natkit/ice-lite';
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

Deno.test('IceTransport carries data on the selected pair, and only from the peer', () => {
  const t = new IceTransport(new IceAgent({ credentials: creds }));
  t.agent.addLocalCandidate(server);
  assert.equal(t.send(Uint8Array.of(0x80)), false); // nothing selected yet
  t.handleInput(check({ username: 'srvU:b', pwd: creds.pwd, useCandidate: true }), browser, 0, server);
  assert.ok(t.pollTransmit()); // the agent's response
  assert.equal(t.handleInput(Uint8Array.of(0x80, 1, 2), browser, 1, server), 'data');
  assert.equal(t.handleInput(Uint8Array.of(0x80, 3), v4('203.0.113.9', 9), 2, server), 'data-dropped');
  const events = [];
  for (let e = t.pollEvent(); e !== undefined; e = t.pollEvent()) events.push(e);
  // The agent's events first (the peer learned, the pair selected), then the data.
  assert.deepEqual(
    events.map((e) => e.type),
    ['remote-candidate', 'state', 'selected-pair', 'state', 'data'],
  );
  assert.deepEqual(events.at(-1), { type: 'data', payload: Uint8Array.of(0x80, 1, 2), from: browser });
  assert.equal(t.send(Uint8Array.of(0x80, 9)), true);
  assert.deepEqual(t.pollTransmit(), {
    source: server,
    destination: browser,
    payload: Uint8Array.of(0x80, 9),
  });
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
