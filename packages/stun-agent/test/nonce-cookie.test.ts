import { describe, expect, it } from 'vitest';
import { formatNonceCookie, parseNonceCookie } from '../src/nonce-cookie.ts';

describe('nonce cookie (RFC 8489 §9.2, §18.1)', () => {
  it('formats the four feature combinations', () => {
    expect(formatNonceCookie({ passwordAlgorithms: false, usernameAnonymity: false })).toBe('obMatJos2AAAA');
    expect(formatNonceCookie({ passwordAlgorithms: true, usernameAnonymity: false })).toBe('obMatJos2gAAA');
    expect(formatNonceCookie({ passwordAlgorithms: false, usernameAnonymity: true })).toBe('obMatJos2QAAA');
    expect(formatNonceCookie({ passwordAlgorithms: true, usernameAnonymity: true })).toBe('obMatJos2wAAA');
  });

  it('parses the bits back, MSB first', () => {
    expect(parseNonceCookie('obMatJos2gAAAadl7W7PeDU4hKE72jda')).toEqual({
      passwordAlgorithms: true,
      usernameAnonymity: false,
    });
    expect(parseNonceCookie('obMatJos2QAAAxyz')).toEqual({
      passwordAlgorithms: false,
      usernameAnonymity: true,
    });
  });

  it('no cookie → undefined', () => {
    expect(parseNonceCookie('f//499k954d6OL34oL9FSTvy64sA')).toBeUndefined();
    expect(parseNonceCookie('obMatJos2')).toBeUndefined();
    expect(parseNonceCookie('obMatJos2A!AA')).toBeUndefined();
  });
});
