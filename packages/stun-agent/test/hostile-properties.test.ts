import { fc, test } from '@fast-check/vitest';
import {
  formatNonceCookie,
  IntegrityKey,
  longTermKey,
  MessageBuilder,
  MessageClass,
  shortTermKey,
} from '@natkit/stun-codec';
import { describe, expect } from 'vitest';
import { StunClient } from '../src/client.ts';
import { drainEvents, drainTransmits, SERVER, SERVER2, seededRandom } from './helpers.ts';

const step = fc.record({
  cls: fc.constantFrom('success', 'error'),
  code: fc.constantFrom(300, 400, 401, 420, 438, 500),
  realm: fc.option(fc.constantFrom('r', 'example.org')),
  nonceBits: fc.option(fc.record({ passwordAlgorithms: fc.boolean(), usernameAnonymity: fc.boolean() })),
  algs: fc.option(fc.array(fc.constantFrom(1, 2, 7), { maxLength: 3 })),
  alt: fc.option(
    fc.constantFrom(SERVER, SERVER2, { address: '2001:db8::1', port: 1, family: 'IPv6' as const }),
  ),
  mi: fc.constantFrom('none', 'md5', 'sha256', 'short', 'wrong'),
  from2: fc.boolean(),
  advance: fc.nat(3000),
  newReq: fc.boolean(),
  cancel: fc.boolean(),
});

/**
 * A server (or on-path attacker who saw the transaction ID) answering with any mix of 300, 400,
 * 401, 420, 438, 500 and success, with or without REALM, nonce-cookie bits, PASSWORD-ALGORITHMS,
 * ALTERNATE-SERVER and right or wrong integrity: the client never throws, never busy-loops, and
 * every request still ends exactly once (or was cancelled).
 */
describe('StunClient under arbitrary responses', () => {
  test.prop(
    [fc.constantFrom('none', 'short-term', 'long-term'), fc.array(step, { maxLength: 25 }), fc.nat()],
    { numRuns: 300 },
  )('never throws; every request ends exactly once', (mode, steps, seed) => {
    const creds =
      mode === 'short-term'
        ? ({ type: 'short-term', username: 'u', password: 'pw' } as const)
        : mode === 'long-term'
          ? ({ type: 'long-term', username: 'u', password: 'pw' } as const)
          : ({ type: 'none' } as const);
    const c = new StunClient({ random: seededRandom(seed + 1), credentials: creds, maxOutstanding: 2 });
    let now = 0;
    const ids: string[] = [c.request(SERVER, 0)];
    const cancelled = new Set<string>();
    const ended: string[] = [];
    for (const s of steps) {
      drainTransmits(c);
      for (const e of drainEvents(c)) ended.push(e.transactionId);
      if (s.newReq) ids.push(c.request(SERVER, now));
      if (s.cancel && ids.length > 1) {
        const id = ids[s.advance % ids.length]!;
        if (c.cancel(id, now)) cancelled.add(id);
      }
      for (const id of ids) {
        const info = c.transaction(id);
        if (info?.stunTransactionId === undefined) continue;
        const b = new MessageBuilder().reset(
          1,
          s.cls === 'success' ? MessageClass.Success : MessageClass.Error,
          info.stunTransactionId,
        );
        if (s.cls === 'error') b.addErrorCode(s.code);
        if (s.realm !== null) b.addRealm(s.realm);
        if (s.nonceBits !== null) b.addNonce(formatNonceCookie(s.nonceBits) + 'abc');
        if (s.algs !== null) {
          const v = new Uint8Array(4 * s.algs.length);
          s.algs.forEach((a, i) => {
            v[4 * i + 1] = a;
          });
          b.addRaw(0x8002, v);
        }
        if (s.alt !== null) b.addAlternateServer(s.alt);
        if (s.cls === 'success') b.addXorMappedAddress(SERVER2);
        if (s.mi === 'md5') b.addMessageIntegrity(new IntegrityKey(longTermKey('u', s.realm ?? 'r', 'pw')));
        if (s.mi === 'sha256')
          b.addMessageIntegritySha256(new IntegrityKey(longTermKey('u', s.realm ?? 'r', 'pw', 'sha256')));
        if (s.mi === 'short') b.addMessageIntegrity(new IntegrityKey(shortTermKey('pw')));
        if (s.mi === 'wrong') b.addMessageIntegrity(new IntegrityKey(shortTermKey('x')));
        c.handleInput(b.build(), info.destination, now);
        break;
      }
      now += s.advance;
      c.handleTimeout(now);
      const t = c.pollTimeout();
      expect(t === undefined || t > now).toBe(true);
    }
    for (let t = c.pollTimeout(); t !== undefined; t = c.pollTimeout()) {
      c.handleTimeout(t);
      drainTransmits(c);
    }
    for (const e of drainEvents(c)) ended.push(e.transactionId);
    expect(c.pending).toBe(0);
    expect(ended.length).toBe(new Set(ended).size);
    expect([...ended, ...cancelled].sort()).toEqual([...ids].sort());
  });
});
