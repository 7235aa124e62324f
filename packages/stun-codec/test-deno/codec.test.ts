/** The codec under Deno: RFC 5769 / RFC 8489 vectors and a builder round trip, from source. */
import assert from 'node:assert/strict';
import {
  decode,
  IntegrityKey,
  longTermKey,
  MessageBuilder,
  MessageClass,
  Method,
  type StunMessage,
  shortTermKey,
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '@natkit/stun-codec';
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
} from '../test/vectors.ts';

const key = new IntegrityKey(shortTermKey(PASSWORD));

function mustDecode(bytes: Uint8Array): StunMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

Deno.test('RFC 5769 §2.1 sample request', () => {
  const m = mustDecode(SAMPLE_REQUEST);
  assert.equal(m.username(), 'evtj:h6vY');
  assert.equal(m.software(), 'STUN test client');
  assert.equal(m.priority(), 0x6e0001ff);
  assert.equal(m.iceControlled(), 0x932ff9b151263b36n);
  assert.equal(verifyMessageIntegrity(m, key), 'ok');
  assert.equal(verifyFingerprint(m), 'ok');
});

Deno.test('RFC 5769 §2.2 IPv4 response decodes, verifies and re-encodes byte-exact', () => {
  const m = mustDecode(SAMPLE_IPV4_RESPONSE);
  const addr = m.xorMappedAddress();
  assert.deepEqual(addr, { address: '192.0.2.1', port: 32853, family: 'IPv4' });
  assert.equal(verifyMessageIntegrity(m, key), 'ok');
  assert.equal(verifyFingerprint(m), 'ok');
  const b = new MessageBuilder()
    .reset(Method.Binding, MessageClass.Success, m.transactionId)
    .addSoftware('test vector');
  b.view()[b.length - 1] = 0x20; // the vector pads with a space
  b.addXorMappedAddress(addr!).addMessageIntegrity(key).addFingerprint();
  assert.equal(toHex(b.view()), toHex(SAMPLE_IPV4_RESPONSE));
});

Deno.test('RFC 5769 §2.3 IPv6 response', () => {
  const m = mustDecode(SAMPLE_IPV6_RESPONSE);
  assert.deepEqual(m.xorMappedAddress(), {
    address: '2001:db8:1234:5678:11:2233:4455:6677',
    port: 32853,
    family: 'IPv6',
  });
  assert.equal(verifyMessageIntegrity(m, key), 'ok');
  assert.equal(verifyFingerprint(m), 'ok');
});

Deno.test('RFC 5769 §2.4 long-term request re-encodes byte-exact', () => {
  const m = mustDecode(SAMPLE_LONG_TERM_REQUEST);
  const k = longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD);
  assert.equal(verifyMessageIntegrity(m, k), 'ok');
  const out = new MessageBuilder()
    .reset(Method.Binding, MessageClass.Request, m.transactionId)
    .addUsername(LT_USERNAME)
    .addNonce(LT_NONCE)
    .addRealm(LT_REALM)
    .addMessageIntegrity(k)
    .build();
  assert.equal(toHex(out), toHex(SAMPLE_LONG_TERM_REQUEST));
});

Deno.test('RFC 8489 B.1 (erratum 6268) MESSAGE-INTEGRITY-SHA256 + USERHASH', () => {
  const m = mustDecode(SHA256_REQUEST);
  assert.equal(m.nonce(), SHA256_NONCE);
  assert.deepEqual(m.userhash(), userhash(LT_USERNAME, LT_REALM));
  assert.equal(
    verifyMessageIntegritySha256(m, longTermKey(LT_USERNAME, LT_REALM, LT_PASSWORD, 'sha256')),
    'ok',
  );
});

Deno.test('builder round trip', () => {
  const tid = crypto.getRandomValues(new Uint8Array(12));
  const k = new IntegrityKey(shortTermKey('secret'));
  const out = new MessageBuilder()
    .reset(Method.Binding, MessageClass.Request, tid)
    .addUsername('a:b')
    .addPriority(12345)
    .addIceControlling(0x0123456789abcdefn)
    .addUseCandidate()
    .addXorMappedAddress({ address: '2001:db8::7', port: 9, family: 'IPv6' })
    .addMessageIntegrity(k)
    .addFingerprint()
    .build();
  const m = mustDecode(out);
  assert.deepEqual(m.transactionId, tid);
  assert.equal(m.username(), 'a:b');
  assert.equal(m.priority(), 12345);
  assert.equal(m.iceControlling(), 0x0123456789abcdefn);
  assert.equal(m.useCandidate(), true);
  assert.deepEqual(m.xorMappedAddress(), { address: '2001:db8::7', port: 9, family: 'IPv6' });
  assert.equal(verifyMessageIntegrity(m, k), 'ok');
  assert.equal(verifyFingerprint(m), 'ok');
});
