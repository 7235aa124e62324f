import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeChannelData,
  IntegrityKey,
  isChannelData,
  isStun,
  MessageBuilder,
  type StunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.ts';
import { plainAttributes, type Visit } from './reference-walk.ts';
import { SAMPLE_IPV6_RESPONSE, SAMPLE_REQUEST, SHA256_REQUEST } from './vectors.ts';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
/** Canonical RFC 5952 text for an IPv6 address, as the decoder produces it. */
function canonicalIPv6(s: string): string {
  const out = new MessageBuilder()
    .reset(1, 0, new Uint8Array(12))
    .addMappedAddress({ address: s, port: 0, family: 'IPv6' })
    .build();
  const r = decode(out);
  return r.ok ? r.message.mappedAddress()!.address : s;
}
const ipv6 = fc.ipV6().map(canonicalIPv6);
const address = fc.oneof(
  fc.record({ address: ipv4, port: fc.nat(0xffff), family: fc.constant('IPv4' as const) }),
  fc.record({ address: ipv6, port: fc.nat(0xffff), family: fc.constant('IPv6' as const) }),
);
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const u32 = fc.nat(0xffffffff);
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const family = fc.constantFrom('IPv4' as const, 'IPv6' as const);

/** One attribute: how to add it and how to read it back. */
interface Spec {
  name: string;
  add: (b: MessageBuilder) => void;
  read: (m: StunMessage) => unknown;
  want: unknown;
}

function spec<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  add: (b: MessageBuilder, v: T) => void,
  read: (m: StunMessage) => unknown,
  want: (v: T) => unknown = (v) => v,
) {
  return arb.map((v): Spec => ({ name, add: (b) => add(b, v), read, want: want(v) }));
}

const specs: fc.Arbitrary<Spec>[] = [
  spec(
    'xorMapped',
    address,
    (b, v) => b.addXorMappedAddress(v),
    (m) => m.xorMappedAddress(),
  ),
  spec(
    'mapped',
    address,
    (b, v) => b.addMappedAddress(v),
    (m) => m.mappedAddress(),
  ),
  spec(
    'alternateServer',
    address,
    (b, v) => b.addAlternateServer(v),
    (m) => m.alternateServer(),
  ),
  spec(
    'responseOrigin',
    address,
    (b, v) => b.addResponseOrigin(v),
    (m) => m.responseOrigin(),
  ),
  spec(
    'otherAddress',
    address,
    (b, v) => b.addOtherAddress(v),
    (m) => m.otherAddress(),
  ),
  spec(
    'xorPeer',
    address,
    (b, v) => b.addXorPeerAddress(v),
    (m) => m.xorPeerAddress(),
  ),
  spec(
    'xorRelayed',
    address,
    (b, v) => b.addXorRelayedAddress(v),
    (m) => m.xorRelayedAddress(),
  ),
  spec(
    'username',
    text,
    (b, v) => b.addUsername(v),
    (m) => m.username(),
  ),
  spec(
    'realm',
    text,
    (b, v) => b.addRealm(v),
    (m) => m.realm(),
  ),
  spec(
    'nonce',
    text,
    (b, v) => b.addNonce(v),
    (m) => m.nonce(),
  ),
  spec(
    'software',
    text,
    (b, v) => b.addSoftware(v),
    (m) => m.software(),
  ),
  spec(
    'alternateDomain',
    fc.domain().filter((d) => d.length <= 255),
    (b, v) => b.addAlternateDomain(v),
    (m) => m.alternateDomain(),
  ),
  spec(
    'errorCode',
    fc.record({ code: fc.integer({ min: 300, max: 699 }), reason: text }),
    (b, v) => b.addErrorCode(v.code, v.reason),
    (m) => m.errorCode(),
  ),
  spec(
    'unknownAttributes',
    fc.array(fc.nat(0xffff), { maxLength: 8 }),
    (b, v) => b.addUnknownAttributes(v),
    (m) => m.unknownAttributes(),
  ),
  spec(
    'addressErrorCode',
    fc.record({ family, code: fc.integer({ min: 300, max: 699 }), reason: text }),
    (b, v) => b.addAddressErrorCode(v.family, v.code, v.reason),
    (m) => m.addressErrorCode(),
  ),
  spec(
    'passwordAlgorithms',
    fc.array(fc.record({ algorithm: fc.nat(0xffff), params: fc.uint8Array({ maxLength: 7 }) }), {
      maxLength: 4,
    }),
    (b, v) => b.addPasswordAlgorithms(v),
    (m) => m.passwordAlgorithms(),
  ),
  spec(
    'passwordAlgorithm',
    fc.record({ algorithm: fc.nat(0xffff), params: fc.uint8Array({ maxLength: 7 }) }),
    (b, v) => b.addPasswordAlgorithm(v),
    (m) => m.passwordAlgorithm(),
  ),
  spec(
    'userhash',
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    (b, v) => b.addUserhash(v),
    (m) => m.userhash(),
  ),
  spec(
    'priority',
    u32,
    (b, v) => b.addPriority(v),
    (m) => m.priority(),
  ),
  spec(
    'useCandidate',
    fc.constant(true),
    (b) => b.addUseCandidate(),
    (m) => m.useCandidate(),
  ),
  spec(
    'iceControlling',
    u64,
    (b, v) => b.addIceControlling(v),
    (m) => m.iceControlling(),
  ),
  spec(
    'iceControlled',
    u64,
    (b, v) => b.addIceControlled(v),
    (m) => m.iceControlled(),
  ),
  spec(
    'changeRequest',
    fc.record({ changeIp: fc.boolean(), changePort: fc.boolean() }),
    (b, v) => b.addChangeRequest(v),
    (m) => m.changeRequest(),
  ),
  spec(
    'responsePort',
    fc.nat(0xffff),
    (b, v) => b.addResponsePort(v),
    (m) => m.responsePort(),
  ),
  spec(
    'padding',
    fc.nat(64),
    (b, v) => b.addPadding(v),
    (m) => m.padding()?.length,
  ),
  spec(
    'channelNumber',
    fc.integer({ min: 0x4000, max: 0x4fff }),
    (b, v) => b.addChannelNumber(v),
    (m) => m.channelNumber(),
  ),
  spec(
    'lifetime',
    u32,
    (b, v) => b.addLifetime(v),
    (m) => m.lifetime(),
  ),
  spec(
    'data',
    fc.uint8Array({ maxLength: 64 }),
    (b, v) => b.addData(v),
    (m) => m.data(),
  ),
  spec(
    'requestedFamily',
    family,
    (b, v) => b.addRequestedAddressFamily(v),
    (m) => m.requestedAddressFamily(),
  ),
  spec(
    'additionalFamily',
    family,
    (b, v) => b.addAdditionalAddressFamily(v),
    (m) => m.additionalAddressFamily(),
  ),
  spec(
    'evenPort',
    fc.boolean(),
    (b, v) => b.addEvenPort(v),
    (m) => m.evenPort()?.reserveNext,
  ),
  spec(
    'requestedTransport',
    fc.nat(255),
    (b, v) => b.addRequestedTransport(v),
    (m) => m.requestedTransport(),
  ),
  spec(
    'dontFragment',
    fc.constant(true),
    (b) => b.addDontFragment(),
    (m) => m.dontFragment(),
  ),
  spec(
    'reservationToken',
    fc.uint8Array({ minLength: 8, maxLength: 8 }),
    (b, v) => b.addReservationToken(v),
    (m) => m.reservationToken(),
  ),
  spec(
    'icmp',
    fc.record({ type: fc.nat(255), code: fc.nat(255), data: u32 }),
    (b, v) => b.addIcmp(v),
    (m) => m.icmp(),
  ),
];

/** Calls every getter and verifier; none may throw, whatever the bytes. */
function touchEverything(m: StunMessage, key: IntegrityKey): void {
  for (const a of m.attributes()) void a.value.length;
  m.forEachAttribute(() => {});
  void m.transactionId;
  m.xorMappedAddress();
  m.mappedAddress();
  m.alternateServer();
  m.responseOrigin();
  m.otherAddress();
  m.xorPeerAddress();
  m.xorPeerAddresses();
  m.xorRelayedAddress();
  m.xorRelayedAddresses();
  m.username();
  m.realm();
  m.nonce();
  m.nonceCookie();
  m.software();
  m.alternateDomain();
  m.errorCode();
  m.unknownAttributes();
  m.addressErrorCode();
  m.passwordAlgorithms();
  m.passwordAlgorithm();
  m.userhash();
  m.messageIntegrity();
  m.messageIntegritySha256();
  m.fingerprint();
  m.priority();
  m.useCandidate();
  m.iceControlling();
  m.iceControlled();
  m.changeRequest();
  m.responsePort();
  m.padding();
  m.channelNumber();
  m.lifetime();
  m.data();
  m.requestedAddressFamily();
  m.additionalAddressFamily();
  m.evenPort();
  m.requestedTransport();
  m.dontFragment();
  m.reservationToken();
  m.icmp();
  verifyMessageIntegrity(m, key);
  verifyMessageIntegritySha256(m, key, { minLength: 16 });
  verifyFingerprint(m);
}

const REASONS = new Set([
  'too-short',
  'not-stun',
  'bad-length',
  'length-mismatch',
  'attribute-overrun',
  'after-integrity',
  'after-fingerprint',
]);
const key = new IntegrityKey(new Uint8Array([1, 2, 3]));

describe('properties', () => {
  it('whatever the builder makes decodes back to the same values (first occurrence wins)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(...specs), { maxLength: 12 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.constantFrom(0, 1, 2, 3),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.record({ mi: fc.boolean(), mi256: fc.boolean(), fp: fc.boolean() }),
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        (attrs, method, cls, tid, trailer, rawKey) => {
          const b = new MessageBuilder({ initialCapacity: 32 }).reset(method, cls as 0 | 1 | 2 | 3, tid);
          for (const a of attrs) a.add(b);
          const k = new IntegrityKey(rawKey);
          if (trailer.mi) b.addMessageIntegrity(k);
          if (trailer.mi256) b.addMessageIntegritySha256(k);
          if (trailer.fp) b.addFingerprint();
          const out = b.build();
          expect(isStun(out)).toBe(true);
          const r = decode(out, { afterIntegrity: 'reject' });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          const m = r.message;
          expect(m.method).toBe(method);
          expect(m.messageClass).toBe(cls);
          expect(m.transactionId).toEqual(tid);
          const seen = new Set<string>();
          for (const a of attrs) {
            if (seen.has(a.name)) continue;
            seen.add(a.name);
            expect(a.read(m), a.name).toEqual(a.want);
          }
          expect(verifyMessageIntegrity(m, k)).toBe(trailer.mi ? 'ok' : 'absent');
          expect(verifyMessageIntegritySha256(m, k)).toBe(trailer.mi256 ? 'ok' : 'absent');
          expect(verifyFingerprint(m)).toBe(trailer.fp ? 'ok' : 'absent');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any byte string decodes to a value or a typed error, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = decode(bytes);
        if (r.ok) touchEverything(r.message, key);
        else expect(REASONS.has(r.error.reason)).toBe(true);
        isStun(bytes);
        isChannelData(bytes);
        decodeChannelData(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('random attribute soup behind a valid header never throws', () => {
    const header = SAMPLE_REQUEST.subarray(0, 20);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.oneof(fc.nat(0x30), fc.integer({ min: 0x8000, max: 0x802c }), fc.nat(0xffff)),
            value: fc.uint8Array({ maxLength: 40 }),
          }),
          { maxLength: 10 },
        ),
        fc.constantFrom<'ignore' | 'reject'>('ignore', 'reject'),
        (attrs, afterIntegrity) => {
          const b = new MessageBuilder().reset(1, 0, header.subarray(8, 20));
          for (const a of attrs) b.addRaw(a.type, a.value);
          const r = decode(b.view(), { afterIntegrity });
          if (r.ok) touchEverything(r.message, key);
          else expect(['after-integrity', 'after-fingerprint']).toContain(r.error.reason);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('walks and lookups find every plain attribute where a plain TLV walk does, short or long', () => {
    // Messages up to ~460 bytes: the index is a bit set while every plain attribute starts
    // at offsets up to 132, and the TLV chain after that; both must agree with the reference.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.oneof(fc.constantFrom(0x0006, 0x0024, 0x8022, 0x8029, 0x4000), fc.nat(0xffff)),
            value: fc.uint8Array({ maxLength: 40, size: 'max' }),
          }),
          { maxLength: 14, size: 'max' },
        ),
        (attrs) => {
          const b = new MessageBuilder().reset(1, 0, SAMPLE_REQUEST.subarray(8, 20));
          for (const a of attrs) b.addRaw(a.type, a.value);
          const r = decode(b.view());
          if (!r.ok) return;
          const want = plainAttributes(r.message.bytes);
          const got: Visit[] = [];
          r.message.forEachAttribute((type, offset, len) => got.push([type, offset, len]));
          expect(got.slice(0, want.length)).toEqual(want);
          expect([...r.message.attributes()].slice(0, want.length).map((a) => a.offset + 4)).toEqual(
            want.map((w) => w[1]),
          );
          for (const [type] of want) {
            expect(r.message.offsetOf(type)).toBe(want.find((w) => w[0] === type)![1] - 4);
          }
          if (!want.some((w) => w[0] === 0x7ffe)) expect(r.message.offsetOf(0x7ffe)).toBe(-1);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('corrupting bytes of real messages never throws', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(SAMPLE_REQUEST, SAMPLE_IPV6_RESPONSE, SHA256_REQUEST),
        fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        fc.nat(200),
        (base, edits, cut) => {
          const b = base.slice(0, Math.max(cut, 20));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          const r = decode(b);
          if (r.ok) touchEverything(r.message, key);
          else expect(REASONS.has(r.error.reason)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
