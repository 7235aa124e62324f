import { fc, test } from '@fast-check/vitest';
import { MessageBuilder, MessageClass, Method, shortTermKey } from '@natkit/stun-codec';
import { describe, expect } from 'vitest';
import { IceAgent, IceRouter, IceTransport } from '../src/index.ts';
import { check, v4 } from './peer.ts';

const creds = { ufrag: 'srvU', pwd: 'serverpassword22chars+' };
const server = v4('192.0.2.1', 3478);
const peer = v4('198.51.100.7', 50000);

function agents() {
  const lite = new IceAgent({ credentials: creds });
  lite.addLocalCandidate(server);
  const full = new IceAgent({ mode: 'full', credentials: creds, random: (b) => b.fill(7) });
  full.addLocalCandidate(server);
  full.setRemoteCredentials({ ufrag: 'peer', pwd: 'peerpassword22chars+++' });
  const router = new IceRouter();
  const routed = new IceAgent({ credentials: { ufrag: 'rtdU', pwd: creds.pwd } });
  routed.addLocalCandidate(server);
  router.add(routed);
  return [lite, full, router] as const;
}

const valid = check({ username: 'srvU:brws', pwd: creds.pwd, useCandidate: true });

describe('never throws on network input', () => {
  test.prop([fc.uint8Array({ minLength: 0, maxLength: 200 })])('random datagrams', (bytes) => {
    for (const m of agents()) {
      m.handleInput(bytes, peer, 0, server);
      while (m.pollTransmit());
    }
  });

  test.prop([
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    }),
  ])(
    'a valid check with flipped bytes is never answered with success unless it still authenticates',
    (flips) => {
      const bytes = valid.slice();
      for (const [i, x] of flips) bytes[i]! ^= x;
      for (const m of agents()) {
        const verdict = m.handleInput(bytes, peer, 0, server);
        const t = m.pollTransmit();
        if (verdict === 'answered') {
          // Only possible if the flips left the integrity-protected part intact (e.g. hit
          // bytes MESSAGE-INTEGRITY does not cover and FINGERPRINT still matches — vanishingly
          // rare) — in that case the answer must still be a success response.
          expect(t).toBeDefined();
          expect([t!.payload[0], t!.payload[1]]).toEqual([0x01, 0x01]); // Binding success response
        }
      }
    },
  );

  test.prop([
    fc.uint8Array({ minLength: 20, maxLength: 120 }).map((b) => {
      // Make it pass the cheap STUN test: type < 0x4000, cookie, length field.
      b[0]! &= 0x3f;
      b[2] = ((b.length - 20) >> 8) & 0xff;
      b[3] = (b.length - 20) & 0xfc;
      b[4] = 0x21;
      b[5] = 0x12;
      b[6] = 0xa4;
      b[7] = 0x42;
      return b.subarray(0, 20 + ((b.length - 20) & ~3));
    }),
  ])('STUN-looking garbage', (bytes) => {
    for (const m of agents()) {
      m.handleInput(bytes, peer, 0, server);
      while (m.pollTransmit());
    }
  });
});

describe('IceTransport: any datagram from any address', () => {
  test.prop([
    fc.array(
      fc.tuple(
        fc.uint8Array({ minLength: 0, maxLength: 120 }),
        fc.constantFrom(peer, v4('203.0.113.9', 4000)),
        fc.boolean(),
      ),
      { maxLength: 30 },
    ),
  ])('never throws; data only from the peer, and every datagram counted once', (inputs) => {
    const t = new IceTransport(new IceAgent({ credentials: creds }), { maxQueuedData: 4 });
    t.agent.addLocalCandidate(server);
    // The browser nominates first, so `peer` is the selected remote.
    t.handleInput(valid, peer, 0, server);
    let now = 0;
    let data = 0;
    let dropped = 0;
    for (const [bytes, from, send] of inputs) {
      now += 100;
      const verdict = t.handleInput(bytes, from, now, server);
      if (verdict === 'data') {
        data++;
        expect(from).toBe(peer);
      }
      if (verdict === 'data-dropped') dropped++;
      if (send) t.send(bytes);
      while (t.pollTransmit());
      t.handleTimeout(now);
    }
    expect(t.stats.dataIn).toBe(data);
    expect(t.stats.dataUnexpected + t.stats.dataOverflow).toBe(dropped);
    let events = 0;
    for (let e = t.pollEvent(); e; e = t.pollEvent()) if (e.type === 'data') events++;
    expect(events).toBe(data);
  });
});

describe('authenticated but odd input, interleaved with timers', () => {
  // Random bytes almost never authenticate; these do, so they reach role conflicts, USE-CANDIDATE,
  // prflx learning, responses to our checks, restarts and consent timers.
  const fresh = { ufrag: 'new1', pwd: 'newpassword22chars++++' };
  const attr = fc.tuple(
    // PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING, XOR-MAPPED-ADDRESS, USERNAME,
    // SOFTWARE, ERROR-CODE, UNKNOWN-ATTRIBUTES, an unknown comprehension-optional one.
    fc.constantFrom(0x0024, 0x0025, 0x8029, 0x802a, 0x0020, 0x0006, 0x8022, 0x0009, 0x000a, 0xc001),
    fc.uint8Array({ maxLength: 12 }),
  );
  const step = fc.record({
    kind: fc.constantFrom('check', 'check', 'timeout', 'response'),
    port: fc.integer({ min: 1, max: 4 }),
    dt: fc.integer({ min: 0, max: 20_000 }),
    attrs: fc.array(attr, { maxLength: 4 }),
    username: fc.constantFrom('srvU:x', 'srvU:', 'new1:x'),
    transactionId: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    responseClass: fc.constantFrom(MessageClass.Success, MessageClass.Error),
  });
  test.prop(
    [fc.constantFrom<'lite' | 'full'>('lite', 'full'), fc.array(step, { maxLength: 40 }), fc.boolean()],
    {
      numRuns: 200,
    },
  )('never throws; after handleTimeout(t), pollTimeout() is undefined or > t', (mode, steps, restart) => {
    const a = new IceAgent({ mode, credentials: creds, random: (b) => b.fill(5) });
    a.addLocalCandidate(server);
    if (mode === 'full') {
      a.setRemoteCredentials({ ufrag: 'peer', pwd: 'peerpassword22chars+++' });
      a.addRemoteCandidate({
        foundation: '1',
        component: 1,
        transport: 'UDP',
        priority: 5,
        address: v4('10.0.0.1', 1),
        type: 'host',
      });
    }
    let now = 0;
    steps.forEach((s, i) => {
      now += s.dt;
      if (restart && i === 10) a.restart(fresh);
      if (s.kind === 'timeout') {
        const t = a.pollTimeout();
        if (t !== undefined) {
          now = Math.max(now, t);
          a.handleTimeout(now);
          const next = a.pollTimeout();
          if (next !== undefined) expect(next).toBeGreaterThan(now);
        }
      } else {
        const b = new MessageBuilder().reset(
          Method.Binding,
          s.kind === 'check' ? MessageClass.Request : s.responseClass,
          s.transactionId,
        );
        b.addUsername(s.username);
        for (const [t, v] of s.attrs) b.addRaw(t, v);
        b.addMessageIntegrity(shortTermKey(s.username.startsWith('new1') ? fresh.pwd : creds.pwd));
        b.addFingerprint();
        a.handleInput(b.build(), v4('10.0.0.1', s.port), now, server);
      }
      while (a.pollTransmit());
      while (a.pollEvent());
    });
  });
});
