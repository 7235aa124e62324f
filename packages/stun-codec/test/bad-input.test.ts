import { describe, expect, it } from 'vitest';
import {
  AttrType,
  decode,
  IntegrityKey,
  isKnownAttribute,
  isStun,
  MessageBuilder,
  MessageClass,
  Method,
  shortTermKey,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.ts';
import { bytes, ok, raw, TID } from './helpers.ts';
import { PASSWORD, SAMPLE_IPV4_RESPONSE, SAMPLE_REQUEST } from './vectors.ts';

const key = new IntegrityKey(shortTermKey(PASSWORD));

function reason(b: Uint8Array): string {
  const r = decode(b);
  return r.ok ? 'ok' : r.error.reason;
}

describe('header checks', () => {
  it('truncated headers are too-short', () => {
    for (let n = 0; n < 20; n++) {
      const r = decode(SAMPLE_REQUEST.subarray(0, n));
      expect(r).toMatchObject({ ok: false, error: { reason: 'too-short', offset: 0 } });
      expect(isStun(SAMPLE_REQUEST.subarray(0, n))).toBe(false);
    }
  });
  it('top bits set is not-stun (e.g. RTP, first byte 0x80)', () => {
    const b = SAMPLE_REQUEST.slice();
    b[0] = 0x80;
    expect(reason(b)).toBe('not-stun');
    b[0] = 0x40;
    expect(reason(b)).toBe('not-stun');
    expect(isStun(b)).toBe(false);
  });
  it('a length that is not a multiple of 4 is bad-length', () => {
    const b = SAMPLE_REQUEST.slice();
    b[3] = 0x59;
    expect(decode(b)).toMatchObject({ ok: false, error: { reason: 'bad-length', offset: 2 } });
    expect(isStun(b)).toBe(false);
  });
  it('a length that overruns the datagram is length-mismatch', () => {
    const truncated = SAMPLE_REQUEST.slice(0, SAMPLE_REQUEST.length - 4);
    expect(reason(truncated)).toBe('length-mismatch');
    expect(isStun(truncated)).toBe(false);
  });
  it('trailing bytes after the message are length-mismatch', () => {
    const longer = new Uint8Array(SAMPLE_REQUEST.length + 4);
    longer.set(SAMPLE_REQUEST);
    expect(reason(longer)).toBe('length-mismatch');
  });
  it('a header-only message is fine', () => {
    const m = ok(raw([]));
    expect(m.attributeCount).toBe(0);
    expect(isStun(raw([]))).toBe(true);
  });
});

describe('attribute bounds', () => {
  it('an attribute whose length runs past the end is attribute-overrun at its offset', () => {
    const b = SAMPLE_REQUEST.slice();
    // FINGERPRINT at offset 100: claim 8 bytes instead of 4.
    b[103] = 8;
    expect(decode(b)).toMatchObject({ ok: false, error: { reason: 'attribute-overrun', offset: 100 } });
  });
  it('a first attribute claiming 0xffff bytes is attribute-overrun', () => {
    const b = raw([[AttrType.Username, bytes(0x61, 0x62, 0x63, 0x64)]]);
    b[22] = 0xff;
    b[23] = 0xff;
    expect(decode(b)).toMatchObject({ ok: false, error: { reason: 'attribute-overrun', offset: 20 } });
  });
  it('a value that fits but whose padding would not cannot exist (length is 4-aligned)', () => {
    // USERNAME of 5 bytes needs 3 padding bytes; cut the message to end right after the value.
    const b = raw([[AttrType.Username, bytes(1, 2, 3, 4, 5)]]).slice(0, 29);
    b[3] = 9; // 29 - 20, not a multiple of 4
    expect(reason(b)).toBe('bad-length');
  });
});

describe('values', () => {
  it('zero-length values: empty text is a value, fixed-size attributes are malformed', () => {
    const m = ok(
      raw([
        [AttrType.Username, bytes()],
        [AttrType.XorMappedAddress, bytes()],
        [AttrType.Priority, bytes()],
        [AttrType.IceControlling, bytes()],
        [AttrType.ErrorCode, bytes()],
        [AttrType.UseCandidate, bytes()],
      ]),
    );
    expect(m.username()).toBe('');
    expect(m.has(AttrType.XorMappedAddress)).toBe(true);
    expect(m.xorMappedAddress()).toBeUndefined();
    expect(m.priority()).toBeUndefined();
    expect(m.iceControlling()).toBeUndefined();
    expect(m.errorCode()).toBeUndefined();
    expect(m.useCandidate()).toBe(true);
  });
  it('oversized values: text over 763 bytes and fixed-size attributes too long are malformed', () => {
    const m = ok(
      raw([
        [AttrType.Username, new Uint8Array(764).fill(0x61)],
        [AttrType.Realm, new Uint8Array(763).fill(0x61)],
        [AttrType.Priority, bytes(0, 0, 0, 1, 0, 0, 0, 0)],
        [AttrType.Userhash, new Uint8Array(33)],
        [AttrType.Fingerprint, bytes(1, 2, 3, 4, 5, 6, 7, 8)],
      ]),
    );
    expect(m.username()).toBeUndefined();
    expect(m.realm()).toBe('a'.repeat(763));
    expect(m.priority()).toBeUndefined();
    expect(m.userhash()).toBeUndefined();
    expect(verifyFingerprint(m)).toBe('mismatch');
  });
  it('a MESSAGE-INTEGRITY of the wrong size is a mismatch', () => {
    const m = ok(raw([[AttrType.MessageIntegrity, new Uint8Array(24)]]));
    expect(verifyMessageIntegrity(m, key)).toBe('mismatch');
    expect(m.messageIntegrity()).toBeUndefined();
  });
  it('wrong address families are malformed', () => {
    const m = ok(
      raw([
        [AttrType.XorMappedAddress, bytes(0, 3, 0, 80, 1, 2, 3, 4)],
        [AttrType.MappedAddress, bytes(0, 1, 0, 80, ...new Uint8Array(16))], // IPv4 with 20 bytes
        [AttrType.AlternateServer, bytes(0, 2, 0, 80, 1, 2, 3, 4)], // IPv6 with 8 bytes
        [AttrType.OtherAddress, bytes(0, 0, 0, 80, 1, 2, 3, 4)],
      ]),
    );
    expect(m.xorMappedAddress()).toBeUndefined();
    expect(m.mappedAddress()).toBeUndefined();
    expect(m.alternateServer()).toBeUndefined();
    expect(m.otherAddress()).toBeUndefined();
  });
  it('the reserved first byte of an address is ignored', () => {
    const m = ok(raw([[AttrType.MappedAddress, bytes(0xff, 1, 0, 80, 10, 0, 0, 1)]]));
    expect(m.mappedAddress()).toEqual({ address: '10.0.0.1', port: 80, family: 'IPv4' });
  });
  it('invalid UTF-8 text is malformed', () => {
    const m = ok(raw([[AttrType.Software, bytes(0x61, 0xff, 0xfe)]]));
    expect(m.software()).toBeUndefined();
  });
  it('ERROR-CODE outside 300..699 or number > 99 is malformed', () => {
    expect(ok(raw([[AttrType.ErrorCode, bytes(0, 0, 7, 0)]])).errorCode()).toBeUndefined();
    expect(ok(raw([[AttrType.ErrorCode, bytes(0, 0, 2, 0)]])).errorCode()).toBeUndefined();
    expect(ok(raw([[AttrType.ErrorCode, bytes(0, 0, 4, 100)]])).errorCode()).toBeUndefined();
    expect(ok(raw([[AttrType.ErrorCode, bytes(0, 0, 4, 20)]])).errorCode()).toEqual({
      code: 420,
      reason: '',
    });
  });
  it('odd-length UNKNOWN-ATTRIBUTES and truncated PASSWORD-ALGORITHMS are malformed', () => {
    expect(ok(raw([[AttrType.UnknownAttributes, bytes(0, 1, 0)]])).unknownAttributes()).toBeUndefined();
    expect(
      ok(raw([[AttrType.PasswordAlgorithms, bytes(0, 1, 0, 8, 0)]])).passwordAlgorithms(),
    ).toBeUndefined();
    expect(ok(raw([[AttrType.PasswordAlgorithm, bytes(0, 1, 0, 4)]])).passwordAlgorithm()).toBeUndefined();
    expect(
      ok(raw([[AttrType.PasswordAlgorithm, bytes(0, 1, 0, 3, 1, 2, 3, 0, 0)]])).passwordAlgorithm(),
    ).toBeUndefined();
  });
  it('PASSWORD-ALGORITHM params padded inside the value are accepted (RFC 8489 §14.12)', () => {
    // §14.12 pads the parameters "in the same manner as an attribute": a sender may count the
    // padding in the attribute Length, as it must inside PASSWORD-ALGORITHMS.
    expect(
      ok(raw([[AttrType.PasswordAlgorithm, bytes(0, 9, 0, 3, 1, 2, 3, 0xff)]])).passwordAlgorithm(),
    ).toEqual({ algorithm: 9, params: bytes(1, 2, 3) });
  });
});

describe('padding', () => {
  it('any padding bytes are accepted (RFC 5769 pads with spaces)', () => {
    const m = ok(SAMPLE_REQUEST);
    expect(m.username()).toBe('evtj:h6vY');
    const b = raw([[AttrType.Username, bytes(0x61)]]);
    b.fill(0xff, 25, 28);
    expect(ok(b).username()).toBe('a');
  });
  it('0xff padding inside a response still verifies when MI and FP cover it', () => {
    const b = new MessageBuilder().reset(Method.Binding, MessageClass.Success, TID).addSoftware('x');
    b.view().fill(0xff, 25, 28);
    const out = b.addMessageIntegrity(key).addFingerprint().build();
    const m = ok(out);
    expect(m.software()).toBe('x');
    expect(verifyMessageIntegrity(m, key)).toBe('ok');
    expect(verifyFingerprint(m)).toBe('ok');
  });
});

describe('duplicates', () => {
  it('the first occurrence wins; all stay visible to attributes()', () => {
    const enc = new TextEncoder();
    const m = ok(
      raw([
        [AttrType.Username, enc.encode('first')],
        [AttrType.Software, enc.encode('s')],
        [AttrType.Username, enc.encode('second')],
      ]),
    );
    expect(m.username()).toBe('first');
    expect(m.getAll(AttrType.Username).map((v) => new TextDecoder().decode(v))).toEqual(['first', 'second']);
    expect([...m.attributes()].map((a) => a.type)).toEqual([
      AttrType.Username,
      AttrType.Software,
      AttrType.Username,
    ]);
  });
  it('a malformed first occurrence is not replaced by a later good one', () => {
    const m = ok(
      raw([
        [AttrType.Priority, bytes(1, 2)],
        [AttrType.Priority, bytes(0, 0, 0, 5)],
      ]),
    );
    expect(m.priority()).toBeUndefined();
  });
});

describe('what may follow MESSAGE-INTEGRITY and FINGERPRINT', () => {
  const mi = new Uint8Array(20);
  const mi256 = new Uint8Array(32);
  const fp = new Uint8Array(4);
  const sw = new TextEncoder().encode('late');

  it('an attribute after MESSAGE-INTEGRITY is ignored (RFC 8489 §14.5)', () => {
    const b = raw([
      [AttrType.MessageIntegrity, mi],
      [AttrType.Software, sw],
      [0x0002, bytes()],
    ]);
    const m = ok(b);
    expect(m.has(AttrType.Software)).toBe(false);
    expect(m.software()).toBeUndefined();
    expect(m.ignoredAfterIntegrity).toBe(2);
    expect(m.unknownRequired).toEqual([]);
    expect(decode(b, { afterIntegrity: 'reject' })).toMatchObject({
      ok: false,
      error: { reason: 'after-integrity', offset: 44 },
    });
  });
  it('MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow MESSAGE-INTEGRITY', () => {
    const b = raw([
      [AttrType.MessageIntegrity, mi],
      [AttrType.MessageIntegritySha256, mi256],
      [AttrType.Fingerprint, fp],
    ]);
    const m = ok(b, { afterIntegrity: 'reject' });
    expect([...m.attributes()].map((a) => a.type)).toEqual([
      AttrType.MessageIntegrity,
      AttrType.MessageIntegritySha256,
      AttrType.Fingerprint,
    ]);
  });
  it('only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256', () => {
    const b = raw([
      [AttrType.MessageIntegritySha256, mi256],
      [AttrType.MessageIntegrity, mi],
      [AttrType.Fingerprint, fp],
    ]);
    const m = ok(b);
    expect(m.has(AttrType.MessageIntegrity)).toBe(false);
    expect(m.has(AttrType.Fingerprint)).toBe(true);
    expect(verifyMessageIntegrity(m, key)).toBe('absent');
    expect(decode(b, { afterIntegrity: 'reject' })).toMatchObject({
      ok: false,
      error: { reason: 'after-integrity' },
    });
  });
  it('a second MESSAGE-INTEGRITY is ignored', () => {
    const m = ok(
      raw([
        [AttrType.MessageIntegrity, mi],
        [AttrType.MessageIntegrity, mi],
      ]),
    );
    expect(m.getAll(AttrType.MessageIntegrity)).toHaveLength(1);
    expect(m.ignoredAfterIntegrity).toBe(1);
  });
  it('a FINGERPRINT that is not last is after-fingerprint', () => {
    const b = raw([
      [AttrType.Fingerprint, fp],
      [AttrType.Software, sw],
    ]);
    expect(decode(b)).toMatchObject({ ok: false, error: { reason: 'after-fingerprint', offset: 28 } });
    const twice = raw([
      [AttrType.Fingerprint, fp],
      [AttrType.Fingerprint, fp],
    ]);
    expect(reason(twice)).toBe('after-fingerprint');
  });
  it('a message that has gained attributes after FINGERPRINT in transit is rejected', () => {
    const b = new Uint8Array(SAMPLE_IPV4_RESPONSE.length + 8);
    b.set(SAMPLE_IPV4_RESPONSE);
    b.set(bytes(0x80, 0x22, 0, 4, 0x61, 0x62, 0x63, 0x64), SAMPLE_IPV4_RESPONSE.length);
    b[3] = b[3]! + 8;
    expect(reason(b)).toBe('after-fingerprint');
  });
});

describe('unknown attributes', () => {
  it('unknown comprehension-required types are listed once each; optional ones are not', () => {
    const m = ok(
      raw([
        [0x0002, bytes()],
        [0xc057, bytes(0, 1, 0, 0)],
        [0x7fff, bytes(1)],
        [0x0002, bytes()],
      ]),
    );
    expect(m.unknownRequired).toEqual([0x0002, 0x7fff]);
    expect(m.get(0xc057)).toEqual(bytes(0, 1, 0, 0));
  });
  it('decode lists exactly the types isKnownAttribute rejects, for every attribute type', () => {
    // decode tests known types against bit masks; they must agree with the registry list.
    for (let t = 0; t <= 0xffff; t++) {
      if (
        t === AttrType.MessageIntegrity ||
        t === AttrType.MessageIntegritySha256 ||
        t === AttrType.Fingerprint
      ) {
        continue;
      }
      const m = ok(raw([[t, bytes()]]));
      const want = t < 0x8000 && !isKnownAttribute(t) ? [t] : [];
      if (m.unknownRequired.length !== want.length || m.unknownRequired[0] !== want[0]) {
        expect.fail(`type 0x${t.toString(16)}: unknownRequired ${m.unknownRequired}, want ${want}`);
      }
    }
  });
});

describe('adversarial sizes', () => {
  it('a 64 KB datagram of 16 000 distinct unknown attributes decodes, listing the first 64', () => {
    const attrs: [number, Uint8Array][] = [];
    for (let t = 0; t < 16_000; t++) attrs.push([0x4000 + t, new Uint8Array(0)]);
    const m = ok(raw(attrs));
    expect(m.attributeCount).toBe(16_000);
    expect(m.unknownRequired).toHaveLength(64);
    expect(m.unknownRequired[0]).toBe(0x4000);
    expect(m.get(0x4000 + 15_999)).toEqual(new Uint8Array(0));
  });
});

describe('classic RFC 3489 messages', () => {
  it('are recognised, not misparsed', () => {
    const b = raw([[AttrType.MappedAddress, bytes(0, 1, 0x0d, 0x96, 192, 0, 2, 1)]], MessageClass.Success);
    b.set(bytes(9, 9, 9, 9), 4); // overwrite the cookie: a 16-byte ID
    expect(isStun(b)).toBe(false);
    const m = ok(b);
    expect(m.classic).toBe(true);
    expect(m.transactionId).toHaveLength(16);
    expect(m.mappedAddress()).toEqual({ address: '192.0.2.1', port: 3478, family: 'IPv4' });
    const resp = new MessageBuilder().resetResponse(m, MessageClass.Success).build();
    expect(resp.subarray(4, 20)).toEqual(b.subarray(4, 20));
  });
  it('an XOR address written into a response to one reads back (the key is header bytes 4..19)', () => {
    const b = raw([], MessageClass.Request);
    b.set(bytes(9, 8, 7, 6), 4); // no cookie: a 16-byte ID
    const resp = new MessageBuilder()
      .resetResponse(ok(b), MessageClass.Success)
      .addXorMappedAddress({ address: '192.0.2.1', port: 3478, family: 'IPv4' })
      .addXorPeerAddress({ address: '2001:db8::1', port: 5000, family: 'IPv6' })
      .build();
    const m = ok(resp);
    expect(m.classic).toBe(true);
    expect(m.xorMappedAddress()).toEqual({ address: '192.0.2.1', port: 3478, family: 'IPv4' });
    expect(m.xorPeerAddress()).toEqual({ address: '2001:db8::1', port: 5000, family: 'IPv6' });
  });
});

describe('integrity verdicts', () => {
  it('tampering with a covered byte is a mismatch for MI and FP', () => {
    const b = SAMPLE_REQUEST.slice();
    b[30] = b[30]! ^ 1; // inside SOFTWARE
    const m = ok(b);
    expect(verifyMessageIntegrity(m, key)).toBe('mismatch');
    expect(verifyFingerprint(m)).toBe('mismatch');
  });
  it('tampering with FINGERPRINT only breaks FINGERPRINT', () => {
    const b = SAMPLE_REQUEST.slice();
    b[107] = b[107]! ^ 1;
    const m = ok(b);
    expect(verifyMessageIntegrity(m, key)).toBe('ok');
    expect(verifyFingerprint(m)).toBe('mismatch');
  });
  it('absent attributes are absent', () => {
    const m = ok(raw([]));
    expect(verifyMessageIntegrity(m, key)).toBe('absent');
    expect(verifyMessageIntegritySha256(m, key)).toBe('absent');
    expect(verifyFingerprint(m)).toBe('absent');
  });
});

describe('MESSAGE-INTEGRITY-SHA256 truncation (RFC 8489 §14.6)', () => {
  const build = (len: number) =>
    ok(
      new MessageBuilder()
        .reset(Method.Binding, MessageClass.Request, TID)
        .addMessageIntegritySha256(key, len)
        .build(),
    );
  it('the full 32 bytes verify by default', () => {
    expect(verifyMessageIntegritySha256(build(32), key)).toBe('ok');
  });
  it('truncated values are rejected unless the usage allows them', () => {
    for (const len of [16, 20, 24, 28]) {
      const m = build(len);
      expect(verifyMessageIntegritySha256(m, key)).toBe('mismatch');
      expect(verifyMessageIntegritySha256(m, key, { minLength: 16 })).toBe('ok');
      expect(verifyMessageIntegritySha256(m, key, { minLength: len + 4 })).toBe('mismatch');
    }
  });
  it('lengths below 16, above 32 or not a multiple of 4 never verify', () => {
    for (const len of [0, 12, 18, 36]) {
      const m = ok(raw([[AttrType.MessageIntegritySha256, new Uint8Array(len)]]));
      expect(verifyMessageIntegritySha256(m, key, { minLength: 0 })).toBe('mismatch');
      expect(m.messageIntegritySha256()).toBeUndefined();
    }
  });
  it('the builder refuses lengths outside the rules', () => {
    const b = new MessageBuilder().reset(Method.Binding, MessageClass.Request, TID);
    for (const len of [12, 18, 36]) expect(() => b.addMessageIntegritySha256(key, len)).toThrow(RangeError);
  });
});
