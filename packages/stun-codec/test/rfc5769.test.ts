import { describe, expect, it } from 'vitest';
import {
  AttrType,
  decode,
  IntegrityKey,
  longTermKey,
  MessageBuilder,
  MessageClass,
  Method,
  PasswordAlgorithm,
  type StunMessage,
  shortTermKey,
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.ts';
import {
  LT_NONCE,
  LT_PASSWORD,
  LT_REALM,
  LT_USERNAME,
  PASSWORD,
  SAMPLE_IPV4_RESPONSE,
  SAMPLE_IPV6_RESPONSE,
  SAMPLE_LONG_TERM_REQUEST,
  SAMPLE_REQUEST,
  SHA256_NONCE,
  SHA256_REQUEST,
  toHex,
} from './vectors.ts';

function mustDecode(bytes: Uint8Array): StunMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(`decode failed: ${r.error.reason}`);
  return r.message;
}

const key = new IntegrityKey(shortTermKey(PASSWORD));

describe('RFC 5769 §2.1 sample request', () => {
  const msg = mustDecode(SAMPLE_REQUEST);
  it('decodes', () => {
    expect(msg.method).toBe(Method.Binding);
    expect(msg.messageClass).toBe(MessageClass.Request);
    expect(msg.classic).toBe(false);
    expect(toHex(msg.transactionId)).toBe('b7e7a701bc34d686fa87dfae');
    expect(msg.software()).toBe('STUN test client');
    expect(msg.priority()).toBe(0x6e0001ff);
    expect(msg.iceControlled()).toBe(0x932ff9b151263b36n);
    expect(msg.iceControlling()).toBeUndefined();
    expect(msg.username()).toBe('evtj:h6vY');
    expect(msg.useCandidate()).toBe(false);
    expect(msg.unknownRequired).toEqual([]);
    expect([...msg.attributes()].map((a) => a.type)).toEqual([
      AttrType.Software,
      AttrType.Priority,
      AttrType.IceControlled,
      AttrType.Username,
      AttrType.MessageIntegrity,
      AttrType.Fingerprint,
    ]);
    expect([...msg.attributes()].map((a) => a.offset)).toEqual([20, 40, 48, 60, 76, 100]);
    const seen: number[][] = [];
    msg.forEachAttribute((type, valueOffset, length) => seen.push([type, valueOffset, length]));
    expect(seen).toEqual([
      [AttrType.Software, 24, 16],
      [AttrType.Priority, 44, 4],
      [AttrType.IceControlled, 52, 8],
      [AttrType.Username, 64, 9],
      [AttrType.MessageIntegrity, 80, 20],
      [AttrType.Fingerprint, 104, 4],
    ]);
    expect(msg.attributeCount).toBe(6);
  });
  it('verifies', () => {
    expect(verifyMessageIntegrity(msg, key)).toBe('ok');
    expect(verifyMessageIntegrity(msg, shortTermKey(PASSWORD))).toBe('ok');
    expect(verifyMessageIntegrity(msg, shortTermKey('wrong'))).toBe('mismatch');
    expect(verifyFingerprint(msg)).toBe('ok');
    expect(verifyMessageIntegritySha256(msg, key)).toBe('absent');
  });
  it('does not copy the datagram', () => {
    expect(msg.bytes).toBe(SAMPLE_REQUEST);
    expect(msg.transactionId.buffer).toBe(SAMPLE_REQUEST.buffer);
    expect(msg.get(AttrType.Username)!.buffer).toBe(SAMPLE_REQUEST.buffer);
  });
  it('re-encodes byte-exact (space padding applied to USERNAME)', () => {
    const b = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Request, msg.transactionId)
      .addSoftware('STUN test client')
      .addPriority(0x6e0001ff)
      .addIceControlled(0x932ff9b151263b36n);
    // RFC 5769 pads USERNAME with spaces; write the attribute raw with the same bytes.
    b.addRaw(AttrType.Username, new TextEncoder().encode('evtj:h6vY'));
    const v = b.view();
    v.fill(0x20, v.length - 3);
    b.addMessageIntegrity(key).addFingerprint();
    expect(toHex(b.view())).toBe(toHex(SAMPLE_REQUEST));
  });
});

describe('RFC 5769 §2.2 sample IPv4 response', () => {
  const msg = mustDecode(SAMPLE_IPV4_RESPONSE);
  it('decodes and verifies', () => {
    expect(msg.messageClass).toBe(MessageClass.Success);
    expect(msg.software()).toBe('test vector');
    expect(msg.xorMappedAddress()).toEqual({ address: '192.0.2.1', port: 32853, family: 'IPv4' });
    expect(verifyMessageIntegrity(msg, key)).toBe('ok');
    expect(verifyFingerprint(msg)).toBe('ok');
  });
  it('re-encodes byte-exact', () => {
    const b = new MessageBuilder().reset(Method.Binding, MessageClass.Success, msg.transactionId);
    b.addSoftware('test vector');
    const v = b.view();
    v[v.length - 1] = 0x20;
    b.addXorMappedAddress({ address: '192.0.2.1', port: 32853, family: 'IPv4' })
      .addMessageIntegrity(key)
      .addFingerprint();
    expect(toHex(b.view())).toBe(toHex(SAMPLE_IPV4_RESPONSE));
  });
  it('view() hands back the same view while the message spans the same bytes, a new one otherwise', () => {
    const req = mustDecode(SAMPLE_REQUEST);
    const b = new MessageBuilder({ initialCapacity: 32 });
    const v1 = b.resetResponse(req, MessageClass.Success).addFingerprint().view();
    const v2 = b.resetResponse(req, MessageClass.Success).addFingerprint().view();
    expect(v2).toBe(v1);
    const v3 = b.resetResponse(req, MessageClass.Success).addSoftware('x').addFingerprint().view();
    expect(v3).not.toBe(v1);
    expect(v3).toHaveLength(36);
    // The buffer grew (32 bytes of capacity): a view of the new buffer, the right bytes.
    expect(v3.buffer).not.toBe(v1.buffer);
    expect(mustDecode(v3).software()).toBe('x');
  });
  it('resetResponse echoes the transaction ID', () => {
    const req = mustDecode(SAMPLE_REQUEST);
    const b = new MessageBuilder().resetResponse(req, MessageClass.Success);
    b.addSoftware('test vector');
    const v = b.view();
    v[v.length - 1] = 0x20;
    b.addXorMappedAddress({ address: '192.0.2.1', port: 32853, family: 'IPv4' })
      .addMessageIntegrity(key)
      .addFingerprint();
    expect(toHex(b.build())).toBe(toHex(SAMPLE_IPV4_RESPONSE));
  });
});

describe('RFC 5769 §2.3 sample IPv6 response', () => {
  const msg = mustDecode(SAMPLE_IPV6_RESPONSE);
  const addr = { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 'IPv6' } as const;
  it('decodes and verifies', () => {
    expect(msg.xorMappedAddress()).toEqual(addr);
    expect(verifyMessageIntegrity(msg, key)).toBe('ok');
    expect(verifyFingerprint(msg)).toBe('ok');
  });
  it('re-encodes byte-exact', () => {
    const b = new MessageBuilder().reset(Method.Binding, MessageClass.Success, msg.transactionId);
    b.addSoftware('test vector');
    const v = b.view();
    v[v.length - 1] = 0x20;
    b.addXorMappedAddress(addr).addMessageIntegrity(key).addFingerprint();
    expect(toHex(b.view())).toBe(toHex(SAMPLE_IPV6_RESPONSE));
  });
});

describe('RFC 5769 §2.4 long-term authentication', () => {
  const msg = mustDecode(SAMPLE_LONG_TERM_REQUEST);
  const ltKey = longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD);
  it('derives the MD5 key', () => {
    expect(toHex(ltKey)).toBe('e8ca7ad59d5eb0518e312911d2dab2a9');
  });
  it('decodes and verifies', () => {
    expect(msg.username()).toBe(LT_USERNAME);
    expect(msg.nonce()).toBe(LT_NONCE);
    expect(msg.realm()).toBe(LT_REALM);
    expect(verifyMessageIntegrity(msg, ltKey)).toBe('ok');
    expect(verifyFingerprint(msg)).toBe('absent');
  });
  it('re-encodes byte-exact (NUL padding)', () => {
    const out = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Request, msg.transactionId)
      .addUsername(LT_USERNAME)
      .addNonce(LT_NONCE)
      .addRealm(LT_REALM)
      .addMessageIntegrity(ltKey)
      .build();
    expect(toHex(out)).toBe(toHex(SAMPLE_LONG_TERM_REQUEST));
  });
});

describe('RFC 8489 B.1 (erratum 6268) MESSAGE-INTEGRITY-SHA256 + USERHASH', () => {
  const msg = mustDecode(SHA256_REQUEST);
  const key256 = longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD, 'sha256');
  it('computes USERHASH', () => {
    expect(toHex(userhash(LT_USERNAME, LT_REALM))).toBe(
      '4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704',
    );
    expect(toHex(msg.userhash()!)).toBe(toHex(userhash(LT_USERNAME, LT_REALM)));
  });
  it('decodes and verifies', () => {
    expect(msg.nonce()).toBe(SHA256_NONCE);
    expect(msg.realm()).toBe(LT_REALM);
    expect(msg.passwordAlgorithm()).toEqual({
      algorithm: PasswordAlgorithm.SHA256,
      params: new Uint8Array(0),
    });
    expect(verifyMessageIntegritySha256(msg, key256)).toBe('ok');
    expect(verifyMessageIntegritySha256(msg, new IntegrityKey(key256))).toBe('ok');
    expect(verifyMessageIntegritySha256(msg, longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD))).toBe(
      'mismatch',
    );
    expect(verifyMessageIntegrity(msg, key256)).toBe('absent');
  });
  it('re-encodes byte-exact', () => {
    const out = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Request, msg.transactionId)
      .addUserhash(userhash(LT_USERNAME, LT_REALM))
      .addNonce(SHA256_NONCE)
      .addRealm(LT_REALM)
      .addPasswordAlgorithm({ algorithm: PasswordAlgorithm.SHA256 })
      .addMessageIntegritySha256(key256)
      .build();
    expect(toHex(out)).toBe(toHex(SHA256_REQUEST));
  });
});
