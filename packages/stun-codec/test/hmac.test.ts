import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockHmac, createStunMac, type HashFn, StreamHmac } from '../src/hmac.ts';

const hashes = [
  ['sha1', sha1 as unknown as HashFn],
  ['sha256', sha256 as unknown as HashFn],
] as const;

/** What STUN integrity is defined as: HMAC over the prefix with bytes 2..3 replaced. */
function reference(hash: HashFn, key: Uint8Array, bytes: Uint8Array, end: number, lengthField: number) {
  const msg = bytes.slice(0, end);
  msg[2] = lengthField >>> 8;
  msg[3] = lengthField & 0xff;
  return hmac(hash as never, key, msg) as Uint8Array;
}

describe.each(hashes)('HMAC-%s with cached state', (_name, hash) => {
  it('uses the block implementation (its self-test passes with this noble version)', () => {
    expect(createStunMac(hash, new Uint8Array([1]))).toBeInstanceOf(BlockHmac);
  });
  it('block and streaming implementations match noble hmac for any key, prefix and length field', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.uint8Array({ minLength: 4, maxLength: 300 }),
        fc.nat(0xffff),
        (key, bytes, lengthField) => {
          const end = Math.max(4, bytes.length - (lengthField % 8));
          const want = reference(hash, key, bytes, end, lengthField);
          for (const impl of [new BlockHmac(hash, key), new StreamHmac(hash, key)]) {
            const out = new Uint8Array(hash.outputLen);
            impl.mac(bytes, end, lengthField, out);
            expect(out).toEqual(want);
            // The cached state is reusable: a second MAC with the same object agrees.
            impl.mac(bytes, end, lengthField, out);
            expect(out).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
