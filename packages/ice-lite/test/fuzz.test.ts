import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { IceAgent, IceRouter } from '../src/index.ts';
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
