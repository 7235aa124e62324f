import { describe, expect, it } from 'vitest';
import { addressKey, canonicalIp, sameAddress } from '../src/address.ts';

describe('address canonicalisation', () => {
  it('expands and lower-cases IPv6', () => {
    expect(canonicalIp('2001:DB8::1', 'IPv6')).toBe('2001:db8:0:0:0:0:0:1');
    expect(canonicalIp('2001:db8:0:0:0:0:0:1', 'IPv6')).toBe('2001:db8:0:0:0:0:0:1');
    expect(canonicalIp('::', 'IPv6')).toBe('0:0:0:0:0:0:0:0');
    expect(canonicalIp('[fe80::1%eth0]', 'IPv6')).toBe('fe80:0:0:0:0:0:0:1%eth0');
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(canonicalIp('::ffff:192.0.2.1', 'IPv6')).toBe('192.0.2.1');
    expect(canonicalIp('::FFFF:c000:201', 'IPv6')).toBe('192.0.2.1');
    expect(
      sameAddress(
        { address: '::ffff:192.0.2.1', port: 5, family: 'IPv6' },
        { address: '192.0.2.1', port: 5, family: 'IPv4' },
      ),
    ).toBe(true);
  });

  it('distinguishes ports', () => {
    expect(addressKey({ address: '192.0.2.1', port: 1, family: 'IPv4' })).not.toBe(
      addressKey({ address: '192.0.2.1', port: 2, family: 'IPv4' }),
    );
  });
});
