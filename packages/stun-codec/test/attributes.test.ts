import { describe, expect, it } from 'vitest';
import {
  AttrType,
  decodeChannelData,
  ErrorCode,
  encodeChannelData,
  formatNonceCookie,
  IntegrityKey,
  isChannelData,
  isStun,
  longTermKey,
  MessageBuilder,
  MessageClass,
  Method,
  opaqueString,
  PasswordAlgorithm,
  parseNonceCookie,
  reasonPhrase,
  SecurityFeature,
  shortTermKey,
  transactionIdKey,
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../src/index.ts';
import { bytes, ok, TID } from './helpers.ts';

const v4 = { address: '203.0.113.7', port: 54321, family: 'IPv4' } as const;
const v6 = { address: '2001:db8::1', port: 3478, family: 'IPv6' } as const;

function start(method: number = Method.Binding, cls: 0 | 1 | 2 | 3 = MessageClass.Request): MessageBuilder {
  return new MessageBuilder().reset(method, cls, TID);
}

describe('header', () => {
  it('encodes every method/class pair and decodes it back', () => {
    for (const method of Object.values(Method)) {
      for (const cls of [0, 1, 2, 3] as const) {
        const m = ok(start(method, cls).build());
        expect(m.method).toBe(method);
        expect(m.messageClass).toBe(cls);
      }
    }
    expect(ok(start(Method.Binding, MessageClass.Error).build()).type).toBe(0x0111);
    expect(ok(start(Method.Data, MessageClass.Indication).build()).type).toBe(0x0017);
    expect(ok(start(0xfff, MessageClass.Error).build()).method).toBe(0xfff);
  });
  it('transactionIdKey is unique per ID and 12 chars', () => {
    const a = transactionIdKey(TID);
    const other = TID.slice();
    other[11] = 99;
    expect(a).toHaveLength(12);
    expect(transactionIdKey(other)).not.toBe(a);
    expect(transactionIdKey(ok(start().build()).transactionId)).toBe(a);
  });
});

describe('address attributes', () => {
  it('every address attribute round-trips IPv4 and IPv6', () => {
    for (const a of [v4, v6]) {
      const m = ok(
        start()
          .addXorMappedAddress(a)
          .addMappedAddress(a)
          .addAlternateServer(a)
          .addResponseOrigin(a)
          .addOtherAddress(a)
          .addXorPeerAddress(a)
          .addXorRelayedAddress(a)
          .build(),
      );
      expect(m.xorMappedAddress()).toEqual(a);
      expect(m.mappedAddress()).toEqual(a);
      expect(m.alternateServer()).toEqual(a);
      expect(m.responseOrigin()).toEqual(a);
      expect(m.otherAddress()).toEqual(a);
      expect(m.xorPeerAddress()).toEqual(a);
      expect(m.xorRelayedAddress()).toEqual(a);
    }
  });
  it('several XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS are all readable', () => {
    const m = ok(start().addXorPeerAddress(v4).addXorPeerAddress(v6).addXorRelayedAddress(v6).build());
    expect(m.xorPeerAddresses()).toEqual([v4, v6]);
    expect(m.xorRelayedAddresses()).toEqual([v6]);
  });
  it('formats IPv6 per RFC 5952 and accepts the usual spellings', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [input, want] of cases) {
      const m = ok(start().addXorMappedAddress({ address: input, port: 1, family: 'IPv6' }).build());
      expect(m.xorMappedAddress()?.address).toBe(want);
    }
  });
  it('refuses unparsable addresses and ports (programmer errors)', () => {
    const b = start();
    expect(() => b.addXorMappedAddress({ address: '1.2.3', port: 1, family: 'IPv4' })).toThrow(RangeError);
    expect(() => b.addXorMappedAddress({ address: '1.2.3.256', port: 1, family: 'IPv4' })).toThrow(
      RangeError,
    );
    expect(() => b.addXorMappedAddress({ address: '1::2::3', port: 1, family: 'IPv6' })).toThrow(RangeError);
    expect(() => b.addXorMappedAddress({ address: '1.2.3.4', port: 70000, family: 'IPv4' })).toThrow(
      RangeError,
    );
    expect(b.length).toBe(20);
  });
});

describe('text attributes', () => {
  it('USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN round-trip (UTF-8)', () => {
    const m = ok(
      start()
        .addUsername('ユーザー:ufrag')
        .addRealm('example.org')
        .addNonce('obMatJos2gAAAxyz')
        .addSoftware('natkit 1.0 ✓')
        .addAlternateDomain('turn.example.org')
        .build(),
    );
    expect(m.username()).toBe('ユーザー:ufrag');
    expect(m.realm()).toBe('example.org');
    expect(m.nonce()).toBe('obMatJos2gAAAxyz');
    expect(m.software()).toBe('natkit 1.0 ✓');
    expect(m.alternateDomain()).toBe('turn.example.org');
    expect(m.nonceCookie()).toEqual({
      features: SecurityFeature.PasswordAlgorithms,
      passwordAlgorithms: true,
      usernameAnonymity: false,
      rest: 'xyz',
    });
  });
  it('refuses to send text over the RFC 8489 limits: USERNAME 509 bytes, SOFTWARE and reasons 128 characters', () => {
    // §14.3: USERNAME "fewer than 509 bytes".
    expect(() => start().addUsername('a'.repeat(509))).toThrow(RangeError);
    expect(ok(start().addUsername('a'.repeat(508)).build()).username()).toHaveLength(508);
    // §14.8-§14.10, §14.14: "fewer than 128 characters (which can be as long as 509 bytes)".
    const wide = '✓'.repeat(127); // 127 characters, 381 bytes
    expect(ok(start().addRealm(wide).addNonce(wide).addSoftware(wide).build()).software()).toBe(wide);
    expect(ok(start().addErrorCode(400, wide).build()).errorCode()?.reason).toBe(wide);
    // REALM and NONCE are echoed as a server sent them: up to what a decoder accepts.
    const long = 'n'.repeat(763);
    expect(ok(start().addRealm(long).addNonce(long).build()).nonce()).toBe(long);
    expect(() => start().addNonce('n'.repeat(764))).toThrow(RangeError);
    for (const add of [
      (b: MessageBuilder) => b.addSoftware(`${wide}!`),
      (b: MessageBuilder) => b.addErrorCode(400, 'x'.repeat(128)),
      (b: MessageBuilder) => b.addAddressErrorCode('IPv4', 440, 'x'.repeat(128)),
    ]) {
      expect(() => add(start())).toThrow(RangeError);
    }
    // Characters, not UTF-16 units: 127 astral characters are 254 units.
    const astral = '😀'.repeat(127);
    expect(ok(start().addSoftware(astral).build()).software()).toBe(astral);
  });
});

describe('nonce cookie (RFC 8489 §9.2)', () => {
  it('formats the feature bits MSB-first', () => {
    expect(formatNonceCookie({})).toBe('obMatJos2AAAA');
    expect(formatNonceCookie({ passwordAlgorithms: true })).toBe('obMatJos2gAAA');
    expect(formatNonceCookie({ usernameAnonymity: true })).toBe('obMatJos2QAAA');
    expect(formatNonceCookie({ passwordAlgorithms: true, usernameAnonymity: true })).toBe('obMatJos2wAAA');
  });
  it('parses cookies and rejects non-cookies', () => {
    expect(parseNonceCookie('obMatJos2wAAArest')).toMatchObject({
      passwordAlgorithms: true,
      usernameAnonymity: true,
      rest: 'rest',
    });
    // RFC 8489 B.1's cookie: bits that are unassigned under the MSB-first numbering.
    expect(parseNonceCookie('obMatJos2AAACf//499k')).toMatchObject({
      features: 2,
      passwordAlgorithms: false,
    });
    expect(parseNonceCookie('f//499k954d6OL34oL9FSTvy64sA')).toBeUndefined();
    expect(parseNonceCookie('obMatJos2AA')).toBeUndefined();
    expect(parseNonceCookie('obMatJos2AA*A')).toBeUndefined();
  });
});

describe('error attributes', () => {
  it('ERROR-CODE with the standard phrase or a custom one', () => {
    for (const code of Object.values(ErrorCode)) {
      const m = ok(start(Method.Binding, MessageClass.Error).addErrorCode(code).build());
      expect(m.errorCode()).toEqual({ code, reason: reasonPhrase(code) });
      expect(reasonPhrase(code)).not.toBe('');
    }
    const m = ok(start().addErrorCode(499, 'Über').build());
    expect(m.errorCode()).toEqual({ code: 499, reason: 'Über' });
    expect(reasonPhrase(299)).toBe('');
    expect(() => start().addErrorCode(700)).toThrow(RangeError);
  });
  it('standard reason phrases are the RFC 8489 §14.8 / RFC 8656 / RFC 8445 ones', () => {
    expect(Object.fromEntries(Object.values(ErrorCode).map((code) => [code, reasonPhrase(code)]))).toEqual({
      300: 'Try Alternate',
      400: 'Bad Request',
      401: 'Unauthenticated', // RFC 8489 renamed RFC 5389's "Unauthorized"
      403: 'Forbidden',
      420: 'Unknown Attribute',
      437: 'Allocation Mismatch',
      438: 'Stale Nonce',
      440: 'Address Family not Supported',
      441: 'Wrong Credentials',
      442: 'Unsupported Transport Protocol',
      443: 'Peer Address Family Mismatch',
      486: 'Allocation Quota Reached',
      487: 'Role Conflict',
      500: 'Server Error',
      508: 'Insufficient Capacity',
    });
  });
  it('UNKNOWN-ATTRIBUTES', () => {
    expect(ok(start().addUnknownAttributes([0x0002, 0x7fff, 0x0003]).build()).unknownAttributes()).toEqual([
      0x0002, 0x7fff, 0x0003,
    ]);
  });
  it('ADDRESS-ERROR-CODE', () => {
    const m = ok(start().addAddressErrorCode('IPv6', 440).build());
    expect(m.addressErrorCode()).toEqual({
      family: 'IPv6',
      code: 440,
      reason: 'Address Family not Supported',
    });
  });
});

describe('OpaqueString (RFC 8265 §4.2) in key derivation', () => {
  it('maps non-ASCII spaces to U+0020 and normalises to NFC', () => {
    expect(opaqueString('a\u00a0b\u3000c')).toBe('a b c');
    expect(opaqueString('e\u0301')).toBe('\u00e9');
    // NFC, not NFKC: compatibility characters survive (the RFC 5769 §2.4 password).
    expect(opaqueString('The\u00adM\u00aatr\u2168')).toBe('The\u00adM\u00aatr\u2168');
    expect(opaqueString('plain ascii')).toBe('plain ascii');
  });
  it('keys and USERHASH are derived from the prepared strings', () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    expect(hex(shortTermKey('e\u0301\u2003'))).toBe(hex(new TextEncoder().encode('\u00e9 ')));
    expect(hex(longTermKey('u', 're\u0301alm', 'p\u00a0w'))).toBe(hex(longTermKey('u', 'r\u00e9alm', 'p w')));
    expect(hex(longTermKey('u', 'r', 'e\u0301', 'sha256'))).toBe(
      hex(longTermKey('u', 'r', '\u00e9', 'sha256')),
    );
    expect(hex(userhash('u\u00a0v', 'e\u0301'))).toBe(hex(userhash('u v', '\u00e9')));
    expect(hex(longTermKey('u', 'r', 'a'))).not.toBe(hex(longTermKey('u', 'r', 'b')));
  });
  it('the long-term key drops quotes and trailing NULs as RFC 8489 §9.2.2 says', () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    // §9.2.2's example: user / realm / pass → MD5("user:realm:pass") = 8493fbc5...
    const plain = hex(longTermKey('user', 'realm', 'pass'));
    expect(plain).toBe('8493fbc53ba582fb4c044c456bdc40eb');
    // As a peer that NUL-terminates USERNAME and REALM sends them, and a quoted realm.
    expect(hex(longTermKey('user\0', 'realm\0\0', 'pass\0'))).toBe(plain);
    expect(hex(longTermKey('"user"', '"realm"', 'pass'))).toBe(plain);
    expect(hex(longTermKey('user', 'realm', 'pass', 'sha256'))).toBe(
      hex(longTermKey('user\0', '"realm"', 'pass\0', 'sha256')),
    );
    // Only trailing NULs, and quotes are not stripped from the password.
    expect(hex(longTermKey('us\0er', 'realm', 'pass'))).not.toBe(plain);
    expect(hex(longTermKey('user', 'realm', '"pass"'))).not.toBe(plain);
  });
});

describe('authentication attributes', () => {
  it('PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM (with padded params)', () => {
    const m = ok(
      start()
        .addPasswordAlgorithms([
          { algorithm: PasswordAlgorithm.SHA256 },
          { algorithm: 0x7777, params: bytes(1, 2, 3) },
          { algorithm: PasswordAlgorithm.MD5 },
        ])
        .addPasswordAlgorithm({ algorithm: 0x7777, params: bytes(9) })
        .build(),
    );
    expect(m.passwordAlgorithms()).toEqual([
      { algorithm: 2, params: bytes() },
      { algorithm: 0x7777, params: bytes(1, 2, 3) },
      { algorithm: 1, params: bytes() },
    ]);
    expect(m.passwordAlgorithm()).toEqual({ algorithm: 0x7777, params: bytes(9) });
  });
  it('USERHASH must be 32 bytes', () => {
    expect(ok(start().addUserhash(new Uint8Array(32).fill(7)).build()).userhash()).toEqual(
      new Uint8Array(32).fill(7),
    );
    expect(() => start().addUserhash(new Uint8Array(31))).toThrow(RangeError);
  });
  it('MI, MI-SHA256 and FINGERPRINT together verify; raw keys work as well as IntegrityKey', () => {
    const raw = bytes(1, 2, 3);
    const key = new IntegrityKey(raw);
    const m = ok(
      start()
        .addUsername('u')
        .addMessageIntegrity(raw)
        .addMessageIntegritySha256(key)
        .addFingerprint()
        .build(),
    );
    expect(verifyMessageIntegrity(m, key)).toBe('ok');
    expect(verifyMessageIntegritySha256(m, raw)).toBe('ok');
    expect(verifyFingerprint(m)).toBe('ok');
  });
  it('keys longer than the hash block are hashed first (RFC 2104)', () => {
    const long = new Uint8Array(100).fill(0x42);
    const m = ok(start().addMessageIntegrity(long).addMessageIntegritySha256(long).build());
    expect(verifyMessageIntegrity(m, long)).toBe('ok');
    expect(verifyMessageIntegritySha256(m, new IntegrityKey(long))).toBe('ok');
    expect(verifyMessageIntegrity(m, long.subarray(0, 99))).toBe('mismatch');
  });
  it('the builder enforces what may follow MESSAGE-INTEGRITY and FINGERPRINT', () => {
    const k = bytes(1);
    expect(() => start().addMessageIntegrity(k).addUsername('x')).toThrow(/MESSAGE-INTEGRITY/);
    expect(() => start().addMessageIntegritySha256(k).addMessageIntegrity(k)).toThrow(/SHA256/);
    expect(() => start().addFingerprint().addFingerprint()).toThrow(/FINGERPRINT/);
    expect(() => start().addMessageIntegrity(k).addMessageIntegritySha256(k).addFingerprint()).not.toThrow();
  });
});

describe('ICE attributes', () => {
  it('PRIORITY, USE-CANDIDATE, ICE-CONTROLLING, ICE-CONTROLLED', () => {
    const m = ok(
      start()
        .addPriority(0xffffffff)
        .addUseCandidate()
        .addIceControlling(0xffffffffffffffffn)
        .addIceControlled(1n)
        .build(),
    );
    expect(m.priority()).toBe(0xffffffff);
    expect(m.useCandidate()).toBe(true);
    expect(m.iceControlling()).toBe(0xffffffffffffffffn);
    expect(m.iceControlled()).toBe(1n);
    expect(() => start().addIceControlling(1n << 64n)).toThrow(RangeError);
    expect(() => start().addPriority(-1)).toThrow(RangeError);
  });
});

describe('RFC 5780 attributes', () => {
  it('CHANGE-REQUEST, RESPONSE-PORT, PADDING', () => {
    const m = ok(
      start()
        .addChangeRequest({ changeIp: true, changePort: true })
        .addResponsePort(40000)
        .addPadding(5)
        .build(),
    );
    expect(m.changeRequest()).toEqual({ changeIp: true, changePort: true });
    expect(m.responsePort()).toBe(40000);
    expect(m.padding()).toEqual(new Uint8Array(5));
    expect(ok(start().addChangeRequest({ changePort: true }).build()).changeRequest()).toEqual({
      changeIp: false,
      changePort: true,
    });
    expect(m.get(AttrType.ChangeRequest)).toEqual(bytes(0, 0, 0, 6));
  });
});

describe('TURN attributes', () => {
  it('every TURN attribute round-trips', () => {
    const token = bytes(1, 2, 3, 4, 5, 6, 7, 8);
    const m = ok(
      start(Method.Allocate)
        .addChannelNumber(0x4001)
        .addLifetime(600)
        .addData(bytes(9, 8, 7))
        .addRequestedAddressFamily('IPv6')
        .addAdditionalAddressFamily('IPv6')
        .addEvenPort(true)
        .addRequestedTransport()
        .addDontFragment()
        .addReservationToken(token)
        .addIcmp({ type: 3, code: 4, data: 1400 })
        .build(),
    );
    expect(m.channelNumber()).toBe(0x4001);
    expect(m.lifetime()).toBe(600);
    expect(m.data()).toEqual(bytes(9, 8, 7));
    expect(m.requestedAddressFamily()).toBe('IPv6');
    expect(m.additionalAddressFamily()).toBe('IPv6');
    expect(m.evenPort()).toEqual({ reserveNext: true });
    expect(m.requestedTransport()).toBe(17);
    expect(m.dontFragment()).toBe(true);
    expect(m.reservationToken()).toEqual(token);
    expect(m.icmp()).toEqual({ type: 3, code: 4, data: 1400 });
    expect(m.get(AttrType.RequestedTransport)).toEqual(bytes(17, 0, 0, 0));
    expect(m.get(AttrType.EvenPort)).toEqual(bytes(0x80));
    expect(m.unknownRequired).toEqual([]);
  });
  it('absent flags read false', () => {
    const m = ok(start().build());
    expect(m.dontFragment()).toBe(false);
    expect(m.useCandidate()).toBe(false);
    expect(m.evenPort()).toBeUndefined();
  });
});

describe('ChannelData (RFC 8656 §12.4)', () => {
  it('round-trips, padded or not', () => {
    const data = bytes(1, 2, 3, 4, 5);
    for (const pad of [false, true]) {
      const frame = encodeChannelData(0x4abc, data, { pad });
      expect(frame.length).toBe(pad ? 12 : 9);
      expect(isChannelData(frame)).toBe(true);
      expect(isStun(frame)).toBe(false);
      const r = decodeChannelData(frame);
      expect(r).toEqual({ ok: true, channel: 0x4abc, data });
      if (r.ok) expect(r.data.buffer).toBe(frame.buffer);
    }
    expect(decodeChannelData(encodeChannelData(0x4000, bytes()))).toEqual({
      ok: true,
      channel: 0x4000,
      data: bytes(),
    });
  });
  it('bad frames get exact verdicts', () => {
    expect(decodeChannelData(bytes(0x40, 0))).toMatchObject({ ok: false, error: { reason: 'too-short' } });
    expect(decodeChannelData(bytes(0x50, 0, 0, 0))).toMatchObject({
      ok: false,
      error: { reason: 'bad-channel' },
    });
    expect(decodeChannelData(bytes(0x3f, 0xff, 0, 0))).toMatchObject({
      ok: false,
      error: { reason: 'bad-channel' },
    });
    expect(decodeChannelData(bytes(0x40, 0, 0, 5, 1, 2))).toMatchObject({
      ok: false,
      error: { reason: 'length-mismatch' },
    });
    expect(decodeChannelData(bytes(0x40, 0, 0, 1, 1, 0, 0, 0, 0))).toMatchObject({
      ok: false,
      error: { reason: 'length-mismatch' },
    });
    expect(isChannelData(bytes(0x40, 0, 0, 5, 1, 2))).toBe(false);
    expect(isChannelData(ok(start().build()).bytes)).toBe(false);
  });
  it('refuses channels outside 0x4000–0x4FFF when encoding', () => {
    expect(() => encodeChannelData(0x5000, bytes())).toThrow(RangeError);
    expect(() => encodeChannelData(0x3fff, bytes())).toThrow(RangeError);
  });
});

describe('builder buffers', () => {
  it('grows past a small caller buffer and reuses its buffer across messages', () => {
    const small = new Uint8Array(24);
    const b = new MessageBuilder({ buffer: small });
    const first = b.reset(Method.Binding, MessageClass.Request, TID).addSoftware('x'.repeat(100)).build();
    expect(ok(first).software()).toBe('x'.repeat(100));
    const view = b.reset(Method.Binding, MessageClass.Request, TID).addPriority(1).view();
    expect(view.length).toBe(28);
    expect(ok(view).priority()).toBe(1);
  });
  it('hands out the same view for a same-sized message, and a new one once the buffer grew', () => {
    const b = new MessageBuilder({ buffer: new Uint8Array(28) });
    const first = b.reset(Method.Binding, MessageClass.Request, TID).addPriority(1).view();
    expect(b.reset(Method.Binding, MessageClass.Request, TID).addPriority(2).view()).toBe(first);
    expect(ok(first).priority()).toBe(2);
    // Grow the buffer (a long message), then build a 28-byte message again: it lives in the
    // new buffer, so the old view (over the caller's 28 bytes) must not come back.
    b.reset(Method.Binding, MessageClass.Request, TID).addSoftware('x'.repeat(100));
    const after = b.reset(Method.Binding, MessageClass.Request, TID).addPriority(3).view();
    expect(after).not.toBe(first);
    expect(after.length).toBe(28);
    expect(ok(after).priority()).toBe(3);
  });
  it('writes into the caller buffer when it fits', () => {
    const buf = new Uint8Array(256);
    const v = new MessageBuilder({ buffer: buf })
      .reset(Method.Binding, MessageClass.Request, TID)
      .addPriority(7)
      .view();
    expect(v.buffer).toBe(buf.buffer);
  });
  it('rejects misuse', () => {
    expect(() => new MessageBuilder().view()).toThrow();
    expect(() => new MessageBuilder().addPriority(1)).toThrow();
    expect(() =>
      new MessageBuilder().reset(Method.Binding, MessageClass.Request, new Uint8Array(11)),
    ).toThrow(RangeError);
  });
});
