/**
 * Property tests under Deno, whose V8 may be built with pointer compression (31-bit small
 * integers): the 16-number keyed-state arrays and the attribute-start bit set must work there
 * too. HMAC against noble's own `hmac`, CRC-32 against a bitwise reference, and walks and
 * lookups against a plain TLV walk, and the attribute cursor against the RFC 8489 indexing rules.
 */
import assert from 'node:assert/strict';
import { crc32, decode, IntegrityKey, MessageBuilder, type StunMessage } from '@natkit/stun-codec';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { plainAttributes, reference, type Visit } from '../test/reference-walk.ts';

function crcReference(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

Deno.test('IntegrityKey.mac is HMAC-SHA1/SHA256 over the prefix with the patched Length', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ minLength: 4, maxLength: 300 }),
      fc.nat(0xffff),
      (keyBytes, bytes, lengthField) => {
        const end = Math.max(4, bytes.length - (lengthField % 8));
        const msg = bytes.slice(0, end);
        msg[2] = lengthField >>> 8;
        msg[3] = lengthField & 0xff;
        const key = new IntegrityKey(keyBytes);
        for (const [alg, hash] of [
          ['sha1', sha1],
          ['sha256', sha256],
        ] as const) {
          const out = new Uint8Array(32);
          key.mac(alg, bytes, end, lengthField, out);
          assert.deepEqual(out.subarray(0, hash.outputLen), hmac(hash, keyBytes, msg));
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test('crc32 agrees with a bitwise CRC-32', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      assert.equal(crc32(bytes), crcReference(bytes));
    }),
    { numRuns: 300 },
  );
});

/** Attributes of any type, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT among them when `withIntegrity`. */
function attributeSoup(withIntegrity: boolean) {
  const plain = fc.constantFrom(0x0006, 0x0024, 0x8022, 0x8029, 0x4000);
  return fc.array(
    fc.record({
      type: withIntegrity
        ? fc.oneof(fc.constantFrom(0x0008, 0x001c, 0x8028), plain, fc.nat(0xffff))
        : fc.oneof(plain, fc.nat(0xffff)),
      value: fc.uint8Array({ maxLength: 40, size: 'max' }),
    }),
    { maxLength: 14, size: 'max' },
  );
}

/** The message those attributes make, decoded (undefined when decode refuses it). */
function decodeSoup(attrs: { type: number; value: Uint8Array }[]): StunMessage | undefined {
  const b = new MessageBuilder().reset(1, 0, new Uint8Array(12));
  for (const a of attrs) b.addRaw(a.type, a.value);
  const r = decode(b.view());
  return r.ok ? r.message : undefined;
}

Deno.test('walks and lookups find every plain attribute where a plain TLV walk does', () => {
  fc.assert(
    fc.property(attributeSoup(false), (attrs) => {
      const m = decodeSoup(attrs);
      if (m === undefined) return;
      const want = plainAttributes(m.bytes);
      const got: Visit[] = [];
      m.forEachAttribute((type, offset, len) => got.push([type, offset, len]));
      assert.deepEqual(got.slice(0, want.length), want);
      for (const [type] of want) {
        assert.equal(m.offsetOf(type), want.find((w) => w[0] === type)![1] - 4);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test('the attribute cursor visits what the RFC rules index, in wire order, as forEachAttribute does', () => {
  fc.assert(
    fc.property(attributeSoup(true), (attrs) => {
      const m = decodeSoup(attrs);
      if (m === undefined) return;
      const want = reference(m.bytes);
      const got: Visit[] = [];
      let prev = -1;
      for (let o = m.firstAttribute(); o >= 0; o = m.nextAttribute(o)) {
        assert.ok(o > prev);
        got.push([m.attributeType(o), o + 4, m.attributeLength(o)]);
        prev = o;
      }
      assert.deepEqual(got, want.visits);
      const byCallback: Visit[] = [];
      m.forEachAttribute((type, offset, len) => byCallback.push([type, offset, len]));
      assert.deepEqual(byCallback, got);
      assert.equal(m.attributeCount, got.length);
      assert.equal(m.ignoredAfterIntegrity, want.ignored);
    }),
    { numRuns: 500 },
  );
});
