import { describe, expect, it } from 'vitest';
import { peerAddress } from '../src/index.ts';

describe('peerAddress', () => {
  it('shows the IPv4 peers of a dual-stack socket as IPv4', () => {
    expect(peerAddress('::ffff:192.0.2.1', 5, 'IPv6')).toEqual({
      address: '192.0.2.1',
      port: 5,
      family: 'IPv4',
    });
    expect(peerAddress('::FFFF:10.0.0.1', 6, 'IPv6')).toEqual({
      address: '10.0.0.1',
      port: 6,
      family: 'IPv4',
    });
  });

  it('leaves every other address as it is', () => {
    expect(peerAddress('2001:db8::1', 7, 'IPv6')).toEqual({
      address: '2001:db8::1',
      port: 7,
      family: 'IPv6',
    });
    expect(peerAddress('::1', 8, 'IPv6')).toEqual({ address: '::1', port: 8, family: 'IPv6' });
    expect(peerAddress('192.0.2.1', 9, 'IPv4')).toEqual({ address: '192.0.2.1', port: 9, family: 'IPv4' });
    // Only the dotted form names an IPv4 peer the way socket APIs print it.
    expect(peerAddress('::ffff:c000:201', 10, 'IPv6')).toEqual({
      address: '::ffff:c000:201',
      port: 10,
      family: 'IPv6',
    });
  });
});
