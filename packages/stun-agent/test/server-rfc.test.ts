// StunServer against the RFC text where a review found it lax: comprehension-required
// attributes it parses but does not act on (RFC 5780, RFC 5389 §12.2), silent discards
// (RFC 8489 §6.3), and the long-term response's integrity attribute (RFC 8489 §9.2.4).
import { fc, test } from '@fast-check/vitest';
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
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { StunServer } from '../src/server.ts';
import { CLIENT, drainTransmits, seededRandom } from './helpers.ts';

const ID = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2]);

function request(build?: (b: MessageBuilder) => void, method: number = Method.Binding): Uint8Array {
  const b = new MessageBuilder().reset(method, MessageClass.Request, ID);
  build?.(b);
  return b.build();
}

/** An RFC 3489 request: no magic cookie, a 16-byte transaction ID, the given attributes. */
function classic(
  attrs: [type: number, value: Uint8Array][] = [],
  method: number = Method.Binding,
): Uint8Array {
  const len = attrs.reduce((n, [, v]) => n + 4 + v.length, 0);
  const out = new Uint8Array(20 + len);
  out[0] = method >> 8;
  out[1] = method & 0xff;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  out.set([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4);
  let o = 20;
  for (const [type, value] of attrs) {
    out.set([type >> 8, type & 0xff, value.length >> 8, value.length & 0xff], o);
    out.set(value, o + 4);
    o += 4 + value.length;
  }
  return out;
}

/** Feeds `bytes`; returns the verdict, the decoded answer (if any) and its bytes. */
function ask(s: StunServer, bytes: Uint8Array, now = 0) {
  const verdict = s.handleInput(bytes, CLIENT, now);
  const out = drainTransmits(s);
  expect(out.length).toBeLessThanOrEqual(1);
  let answer: StunMessage | undefined;
  if (out[0] !== undefined) {
    const r = decode(out[0].payload);
    if (!r.ok) throw new Error(`server sent undecodable bytes: ${r.error.message}`);
    answer = r.message;
  }
  return { verdict, answer, bytes: out[0]?.payload };
}

describe('StunServer: silent discards (RFC 8489 §6.3)', () => {
  it('a request for a method other than Binding: no answer, counted as unsupported-method', () => {
    const s = new StunServer({ fingerprint: true, software: 'natkit' });
    const allocate = request((b) => b.addRequestedTransport(), Method.Allocate);
    expect(ask(s, allocate)).toMatchObject({ verdict: 'unsupported-method', answer: undefined });
    expect(ask(s, request(undefined, Method.Refresh)).verdict).toBe('unsupported-method');
    expect(ask(s, request(undefined, 0x0ff)).verdict).toBe('unsupported-method');
    // RFC 3489's Shared Secret request (method 0x002) too.
    expect(ask(s, classic([], 0x0002))).toMatchObject({ verdict: 'unsupported-method', answer: undefined });
    expect(s.stats['unsupported-method']).toBe(4);
    expect(s.stats['bad-request']).toBe(0);
  });

  it('a request with the magic cookie whose lengths do not parse: no answer, counted as malformed', () => {
    const s = new StunServer({ fingerprint: true });
    const overrun = request((b) => b.addSoftware('xyz'));
    overrun[23] = 200; // SOFTWARE claims 200 bytes
    const truncated = request((b) => b.addSoftware('a client')).subarray(0, 28); // header says 12
    const unaligned = request((b) => b.addSoftware('abcd'));
    unaligned[3] = 6; // message length not a multiple of 4
    const allocate = request((b) => b.addSoftware('xyz'), Method.Allocate);
    allocate[23] = 99;
    for (const bytes of [overrun, truncated, unaligned, allocate]) {
      expect(ask(s, bytes)).toMatchObject({ verdict: 'malformed', answer: undefined });
    }
    expect(s.stats.malformed).toBe(4);
    // A malformed response is still just not STUN to a server.
    const resp = new MessageBuilder()
      .reset(Method.Binding, MessageClass.Success, ID)
      .addSoftware('x')
      .build();
    resp[23] = 77;
    expect(ask(s, resp).verdict).toBe('not-stun');
  });

  test.prop([fc.uint8Array({ minLength: 20, maxLength: 120 }), fc.integer({ min: 0, max: 0xfff })])(
    'answers nothing that does not decode, and nothing but Binding',
    (bytes, method) => {
      const input = bytes.slice();
      input[0]! &= 0x3e; // a request type…
      input[1]! &= 0xef;
      input.set([0x21, 0x12, 0xa4, 0x42], 4); // …with the cookie
      input[2] = ((input.length - 20) >> 8) & 0xff;
      input[3] = (input.length - 20) & 0xff;
      const s = new StunServer();
      const verdict = s.handleInput(input, CLIENT, 0);
      const sent = drainTransmits(s);
      const r = decode(input);
      if (!r.ok) expect([verdict, sent.length]).toEqual(['malformed', 0]);
      else if (r.message.method !== Method.Binding) {
        // (A FINGERPRINT that does not match is checked first: not STUN, so not a request.)
        expect(['unsupported-method', 'bad-fingerprint']).toContain(verdict);
        expect(sent).toEqual([]);
      }
      // And a well-formed non-Binding request of any method is never answered either.
      const other = request(undefined, method === Method.Binding ? 0x002 : method);
      expect(s.handleInput(other, CLIENT, 0)).toBe('unsupported-method');
      expect(drainTransmits(s)).toEqual([]);
    },
  );
});

describe('StunServer: known comprehension-required attributes it does not implement', () => {
  it('CHANGE-REQUEST gets 420 listing it, whatever its flags (RFC 5780 §6.1: no alternate address)', () => {
    const s = new StunServer();
    for (const flags of [
      {},
      { changeIp: true },
      { changePort: true },
      { changeIp: true, changePort: true },
    ]) {
      const { verdict, answer } = ask(
        s,
        request((b) => b.addChangeRequest(flags)),
      );
      expect(verdict).toBe('unknown-attribute');
      expect(answer!.messageClass).toBe(MessageClass.Error);
      expect(answer!.errorCode()?.code).toBe(420);
      expect(answer!.unknownAttributes()).toEqual([AttrType.ChangeRequest]);
      expect(answer!.has(AttrType.XorMappedAddress)).toBe(false);
    }
    expect(s.stats['unknown-attribute']).toBe(4);
    expect(s.stats.success).toBe(0);
  });

  it('RESPONSE-PORT and PADDING get 420 too, listed once each in wire order with unknown types', () => {
    const bytes = request((b) =>
      b
        .addResponsePort(4000)
        .addRaw(0x7f01, new Uint8Array(4))
        .addPadding(8)
        .addSoftware('x')
        .addChangeRequest({})
        .addResponsePort(4001),
    );
    const { verdict, answer } = ask(new StunServer(), bytes);
    expect(verdict).toBe('unknown-attribute');
    expect(answer!.unknownAttributes()).toEqual([
      AttrType.ResponsePort,
      0x7f01,
      AttrType.Padding,
      AttrType.ChangeRequest,
    ]);
  });

  it('ignores known attributes that mean nothing for a Binding server: TURN, ICE, response-only', () => {
    const s = new StunServer();
    const asks: ((b: MessageBuilder) => void)[] = [
      (b) => b.addRequestedTransport().addLifetime(600).addDontFragment().addEvenPort(),
      (b) => b.addChannelNumber(0x4000).addXorPeerAddress(CLIENT).addData(new Uint8Array(3)),
      (b) => b.addRequestedAddressFamily('IPv4').addReservationToken(new Uint8Array(8)),
      (b) => b.addPriority(0x6e0001ff).addUseCandidate().addIceControlling(7n),
      (b) => b.addMappedAddress(CLIENT).addXorMappedAddress(CLIENT).addErrorCode(400),
      (b) => b.addUsername('u:v').addMessageIntegrity(shortTermKey('no auth configured')),
    ];
    for (const build of asks) expect(ask(s, request(build)).verdict).toBe('success');
  });

  it('ignores an RFC 5780 attribute placed after MESSAGE-INTEGRITY (RFC 8489 §14.5)', () => {
    const key = new IntegrityKey(shortTermKey('pass'));
    const s = new StunServer({ auth: { type: 'short-term', password: () => key } });
    // The builder refuses to write it there, so append it by hand and fix the length.
    const signed = request((b) => b.addUsername('a:b').addMessageIntegrity(key));
    const bytes = new Uint8Array(signed.length + 8);
    bytes.set(signed);
    bytes.set([0x00, 0x03, 0x00, 0x04, 0, 0, 0, 6], signed.length); // CHANGE-REQUEST
    bytes[3] = bytes.length - 20;
    expect(ask(s, bytes).verdict).toBe('success');
  });

  it('checks credentials first, then answers 420 integrity-protected (RFC 8489 §6.3, §6.3.1)', () => {
    const key = new IntegrityKey(shortTermKey('pass'));
    const s = new StunServer({
      auth: { type: 'short-term', password: (u) => (u === 'a:b' ? key : undefined) },
    });
    const good = ask(
      s,
      request((b) => b.addChangeRequest({ changeIp: true }).addUsername('a:b').addMessageIntegrity(key)),
    );
    expect(good.answer!.errorCode()?.code).toBe(420);
    expect(good.answer!.unknownAttributes()).toEqual([AttrType.ChangeRequest]);
    expect(verifyMessageIntegrity(good.answer!, key)).toBe('ok');
    const forged = request((b) =>
      b.addChangeRequest({}).addUsername('a:b').addMessageIntegrity(shortTermKey('x')),
    );
    expect(ask(s, forged).answer!.errorCode()?.code).toBe(401);
    const lt = new StunServer({ auth: { type: 'long-term', realm: 'r', password: () => 'p' } });
    expect(
      ask(
        lt,
        request((b) => b.addChangeRequest({})),
      ).answer!.errorCode()?.code,
    ).toBe(401);
  });
});

/** Every attribute's length field, in wire order (the raw TLV chain). */
function attributeLengths(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 20; o < bytes.length; o += 4 + ((((bytes[o + 2]! << 8) | bytes[o + 3]!) + 3) & ~3)) {
    out.push((bytes[o + 2]! << 8) | bytes[o + 3]!);
  }
  return out;
}

describe('StunServer: RFC 3489 clients (RFC 5389 §12.2)', () => {
  const RESPONSE_ADDRESS = 0x0002;
  const addr = new Uint8Array([0, 1, 0x0d, 0x96, 192, 0, 2, 10]);

  it('RESPONSE-ADDRESS or CHANGE-REQUEST: 420 in RFC 3489 form (16-byte ID echoed, 4-byte multiples)', () => {
    const s = new StunServer();
    const cases: [Uint8Array, number[]][] = [
      [classic([[RESPONSE_ADDRESS, addr]]), [RESPONSE_ADDRESS, RESPONSE_ADDRESS]],
      [classic([[AttrType.ChangeRequest, new Uint8Array([0, 0, 0, 6])]]), [3, 3]],
      [
        classic([
          [AttrType.ChangeRequest, new Uint8Array(4)],
          [RESPONSE_ADDRESS, addr],
        ]),
        [3, RESPONSE_ADDRESS],
      ],
    ];
    for (const [req, listed] of cases) {
      const { verdict, answer, bytes } = ask(s, req);
      expect(verdict).toBe('unknown-attribute');
      expect(answer!.classic).toBe(true);
      expect(bytes!.subarray(4, 20)).toEqual(req.subarray(4, 20));
      expect(answer!.errorCode()?.code).toBe(420);
      // RFC 3489 repeated the last type to fill 32 bits (RFC 8489 §14.13's note).
      expect(answer!.unknownAttributes()).toEqual(listed);
      for (const len of attributeLengths(bytes!)) expect(len % 4).toBe(0);
    }
  });

  it('still answers a plain RFC 3489 request with MAPPED-ADDRESS, and 400 when auth is configured', () => {
    expect(ask(new StunServer(), classic()).answer!.mappedAddress()).toEqual(CLIENT);
    const s = new StunServer({ auth: { type: 'short-term', password: () => 'p' } });
    expect(ask(s, classic([[RESPONSE_ADDRESS, addr]])).answer!.errorCode()?.code).toBe(400);
  });
});

describe('StunServer: long-term response integrity follows PASSWORD-ALGORITHM (RFC 8489 §9.2.4)', () => {
  const realm = 'example.org';
  const server = () =>
    new StunServer({
      random: seededRandom(3),
      auth: { type: 'long-term', realm, password: (u) => (u === 'alice' ? 'wonderland' : undefined) },
    });
  const keyOf = (alg: 'md5' | 'sha256') => new IntegrityKey(longTermKey('alice', realm, 'wonderland', alg));

  function authed(nonce: string, alg: 'md5' | 'sha256' | 'none', integrity: 'mi' | 'mi256' | 'both') {
    const key = keyOf(alg === 'sha256' ? 'sha256' : 'md5');
    return request((b) => {
      b.addUsername('alice').addRealm(realm).addNonce(nonce);
      if (alg !== 'none') {
        b.addPasswordAlgorithms([
          { algorithm: PasswordAlgorithm.SHA256 },
          { algorithm: PasswordAlgorithm.MD5 },
        ]);
        b.addPasswordAlgorithm({
          algorithm: alg === 'sha256' ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5,
        });
      }
      if (integrity !== 'mi256') b.addMessageIntegrity(key);
      if (integrity !== 'mi') b.addMessageIntegritySha256(key);
    });
  }

  function answer(alg: 'md5' | 'sha256' | 'none', integrity: 'mi' | 'mi256' | 'both'): StunMessage {
    const s = server();
    const nonce = ask(s, request()).answer!.nonce()!;
    const r = ask(s, authed(nonce, alg, integrity), 1);
    expect(r.verdict).toBe('success');
    return r.answer!;
  }

  it('negotiated SHA-256: MESSAGE-INTEGRITY-SHA256 even when the request carried only MESSAGE-INTEGRITY', () => {
    for (const integrity of ['mi', 'mi256', 'both'] as const) {
      const a = answer('sha256', integrity);
      expect(verifyMessageIntegritySha256(a, keyOf('sha256'))).toBe('ok');
      expect(a.has(AttrType.MessageIntegrity)).toBe(false);
    }
  });

  it('explicit PASSWORD-ALGORITHM MD5: MESSAGE-INTEGRITY-SHA256 keyed with the MD5 key', () => {
    for (const integrity of ['mi', 'mi256'] as const) {
      const a = answer('md5', integrity);
      expect(verifyMessageIntegritySha256(a, keyOf('md5'))).toBe('ok');
      expect(a.has(AttrType.MessageIntegrity)).toBe(false);
    }
  });

  it('neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM (processed as MD5): MESSAGE-INTEGRITY', () => {
    for (const integrity of ['mi', 'mi256'] as const) {
      const a = answer('none', integrity);
      expect(verifyMessageIntegrity(a, keyOf('md5'))).toBe('ok');
      expect(a.has(AttrType.MessageIntegritySha256)).toBe(false);
      // "...the REALM, NONCE, USERNAME, and USERHASH attributes SHOULD NOT be included."
      for (const t of [AttrType.Realm, AttrType.Nonce, AttrType.Username, AttrType.Userhash]) {
        expect(a.has(t)).toBe(false);
      }
    }
  });

  it('the same rule protects a 420 sent after authentication', () => {
    const s = server();
    const nonce = ask(s, request()).answer!.nonce()!;
    const req = request((b) => {
      b.addChangeRequest({}).addUsername('alice').addRealm(realm).addNonce(nonce);
      b.addPasswordAlgorithms([
        { algorithm: PasswordAlgorithm.SHA256 },
        { algorithm: PasswordAlgorithm.MD5 },
      ]);
      b.addPasswordAlgorithm({ algorithm: PasswordAlgorithm.SHA256 }).addMessageIntegrity(keyOf('sha256'));
    });
    const a = ask(s, req, 1).answer!;
    expect(a.errorCode()?.code).toBe(420);
    expect(verifyMessageIntegritySha256(a, keyOf('sha256'))).toBe('ok');
  });
});

describe('SOFTWARE option (RFC 8489 §14.14: fewer than 128 characters)', () => {
  it('client and server refuse a longer one when constructed, not on every message', () => {
    const long = 's'.repeat(128);
    expect(() => new StunServer({ software: long })).toThrow(RangeError);
    expect(() => new StunClient({ software: long })).toThrow(RangeError);
    const fine = '✓'.repeat(127);
    expect(() => new StunServer({ software: fine })).not.toThrow();
    expect(() => new StunClient({ software: fine })).not.toThrow();
  });
});
