import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  addressKey,
  candidateFoundation,
  candidatePriority,
  generateCredentials,
  hostCandidate,
  isValidPwd,
  isValidUfrag,
  pairPriority,
} from '../src/index.ts';

describe('candidate priority (RFC 8445 §5.1.2.1)', () => {
  it('matches the RFC 8838/8839 SDP examples', () => {
    expect(candidatePriority('host')).toBe(2130706431);
    expect(candidatePriority('srflx')).toBe(1694498815);
    expect(candidatePriority('prflx')).toBe(1862270975);
    expect(candidatePriority('relay')).toBe(16777215);
    expect(candidatePriority('host', 65535, 2)).toBe(2130706430);
  });
  it('rejects out-of-range arguments', () => {
    expect(() => candidatePriority('host', 70000)).toThrow(RangeError);
    expect(() => candidatePriority('host', 1, 0)).toThrow(RangeError);
    expect(() => candidatePriority('host', 1, 257)).toThrow(RangeError);
  });
  test.prop([
    fc.constantFrom('host', 'srflx', 'prflx', 'relay' as const),
    fc.integer({ min: 0, max: 65535 }),
    fc.integer({ min: 1, max: 256 }),
  ])('stays in 1..2^31-1', (type, lp, comp) => {
    const p = candidatePriority(type, lp, comp);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe('pair priority (RFC 8445 §6.1.2.3)', () => {
  it('matches the derived example', () => {
    expect(pairPriority(2130706431, 1694498815)).toBe(7277816997797167103n);
  });
  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })])(
    'equals 2^32·min + 2·max + (G>D) computed in bigint',
    (g, d) => {
      const G = BigInt(g);
      const D = BigInt(d);
      const min = G < D ? G : D;
      const max = G < D ? D : G;
      expect(pairPriority(g, d)).toBe(2n ** 32n * min + 2n * max + (G > D ? 1n : 0n));
      // Swapping roles changes only the tie-break bit.
      if (g !== d) expect(pairPriority(g, d) - pairPriority(d, g)).toBe(g > d ? 1n : -1n);
    },
  );
});

describe('foundation (RFC 8445 §5.1.1.3)', () => {
  it('is equal iff type, base IP, transport and server are equal', () => {
    expect(candidateFoundation('host', '10.0.0.1')).toBe(candidateFoundation('host', '10.0.0.1', 'udp'));
    expect(candidateFoundation('host', '10.0.0.1')).not.toBe(candidateFoundation('host', '10.0.0.2'));
    expect(candidateFoundation('host', '10.0.0.1')).not.toBe(candidateFoundation('srflx', '10.0.0.1'));
    expect(candidateFoundation('srflx', '10.0.0.1', 'UDP', '1.1.1.1')).not.toBe(
      candidateFoundation('srflx', '10.0.0.1', 'UDP', '2.2.2.2'),
    );
    expect(candidateFoundation('host', '10.0.0.1')).toMatch(/^[A-Za-z0-9+/]{1,32}$/);
  });
  it('host candidates ignore the port', () => {
    const a = hostCandidate({ address: '192.0.2.1', port: 1000, family: 'IPv4' });
    const b = hostCandidate({ address: '192.0.2.1', port: 2000, family: 'IPv4' });
    expect(a.foundation).toBe(b.foundation);
    expect(a.priority).toBe(2130706431);
  });
  it('address keys bracket IPv6', () => {
    expect(addressKey({ address: '::1', port: 5, family: 'IPv6' })).toBe('[::1]:5');
    expect(addressKey({ address: '1.2.3.4', port: 5, family: 'IPv4' })).toBe('1.2.3.4:5');
  });
});

describe('credentials (RFC 8839 §5.4)', () => {
  it('are drawn from the injected RandomSource', () => {
    let n = 0;
    const counting = (b: Uint8Array) => {
      for (let i = 0; i < b.length; i++) b[i] = n++;
    };
    const c = generateCredentials(counting);
    expect(c.ufrag).toBe('ABCDEFGH');
    expect(c.pwd).toBe('IJKLMNOPQRSTUVWXYZabcdef');
    expect(isValidUfrag(c.ufrag) && isValidPwd(c.pwd)).toBe(true);
  });
  it('defaults to crypto randomness', () => {
    const a = generateCredentials();
    const b = generateCredentials();
    expect(a.ufrag).not.toBe(b.ufrag);
    expect(isValidUfrag(a.ufrag) && isValidPwd(a.pwd)).toBe(true);
  });
  it('enforces lengths and the ice-char set', () => {
    expect(isValidUfrag('abc')).toBe(false);
    expect(isValidUfrag('abcd')).toBe(true);
    expect(isValidUfrag('a'.repeat(256))).toBe(true);
    expect(isValidUfrag('a'.repeat(257))).toBe(false);
    expect(isValidUfrag('ab-d')).toBe(false);
    expect(isValidPwd('x'.repeat(21))).toBe(false);
    expect(isValidPwd('+/'.repeat(11))).toBe(true);
    expect(isValidPwd('x'.repeat(257))).toBe(false);
  });
});
