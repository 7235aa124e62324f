import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/index.ts';

describe('crc32', () => {
  it('is zlib/gzip CRC-32 (check value of "123456789" is 0xcbf43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
  it('agrees with zlib on any range of any bytes (every tail length of the 8-byte loop)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        expect(crc32(bytes, start, end)).toBe(zlibCrc32(bytes.subarray(start, end)));
      }),
      { numRuns: 500 },
    );
  });
});
