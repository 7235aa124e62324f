import { fc, test } from '@fast-check/vitest';
import {
  AttrType,
  decode,
  ErrorCode,
  IntegrityKey,
  longTermKey,
  MessageBuilder,
  MessageClass,
  Method,
  PasswordAlgorithm,
  parseNonceCookie,
  type StunMessage,
  shortTermKey,
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunServer } from '../src/server.ts';
import { CLIENT, drainTransmits, seededRandom } from './helpers.ts';

const ID = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
const V6: typeof CLIENT = { address: '2001:db8::7', port: 40000, family: 'IPv6' };

function request(build?: (b: MessageBuilder) => void, method: number = Method.Binding): Uint8Array {
  const b = new MessageBuilder().reset(method, MessageClass.Request, ID);
  build?.(b);
  return b.build();
}

/** Feeds `bytes` and returns the verdict and the decoded answer (if any). */
function ask(s: StunServer, bytes: Uint8Array, from = CLIENT, now = 0) {
  const verdict = s.handleInput(bytes, from, now);
  const out = drainTransmits(s);
  expect(out.length).toBeLessThanOrEqual(1);
  const t = out[0];
  let answer: StunMessage | undefined;
  if (t !== undefined) {
    expect(t.destination).toEqual(from);
    const r = decode(t.payload);
    if (!r.ok) throw new Error(`server sent undecodable bytes: ${r.error.message}`);
    answer = r.message;
  }
  return { verdict, answer, bytes: t?.payload };
}

describe('StunServer: Binding', () => {
  it('answers with XOR-MAPPED-ADDRESS = the source address, same transaction ID', () => {
    const { verdict, answer } = ask(new StunServer(), request());
    expect(verdict).toBe('success');
    expect(answer!.messageClass).toBe(MessageClass.Success);
    expect(answer!.transactionId).toEqual(ID);
    expect(answer!.xorMappedAddress()).toEqual(CLIENT);
    expect(answer!.has(AttrType.MappedAddress)).toBe(false);
    expect(answer!.has(AttrType.Fingerprint)).toBe(false);
  });

  it('IPv6 sources, and MAPPED-ADDRESS too when configured (RFC 5780 style)', () => {
    const { answer } = ask(new StunServer({ mappedAddress: 'always' }), request(), V6);
    expect(answer!.xorMappedAddress()).toEqual(V6);
    expect(answer!.mappedAddress()).toEqual(V6);
  });

  it('mirrors FINGERPRINT by default; always/never on request', () => {
    const withFp = request((b) => b.addFingerprint());
    const a = ask(new StunServer(), withFp).answer!;
    expect(verifyFingerprint(a)).toBe('ok');
    expect(ask(new StunServer({ fingerprint: false }), withFp).answer!.has(AttrType.Fingerprint)).toBe(false);
    expect(verifyFingerprint(ask(new StunServer({ fingerprint: true }), request()).answer!)).toBe('ok');
  });

  it('adds SOFTWARE when the request is large enough to pay for it', () => {
    const s = new StunServer({ software: 'natkit test' });
    expect(ask(s, request()).answer!.software()).toBeUndefined();
    const big = request((b) => b.addSoftware('a client with a long name').addFingerprint());
    expect(ask(s, big).answer!.software()).toBe('natkit test');
  });

  it('answers classic RFC 3489 requests with MAPPED-ADDRESS and their 16-byte ID', () => {
    const classic = new Uint8Array(20);
    classic[1] = 0x01; // Binding request, length 0
    classic.set([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4);
    const { verdict, bytes } = ask(new StunServer(), classic);
    expect(verdict).toBe('success');
    expect(bytes!.subarray(4, 20)).toEqual(classic.subarray(4, 20));
    const r = decode(bytes!);
    expect(r.ok && r.message.mappedAddress()).toEqual(CLIENT);
    expect(r.ok && r.message.has(AttrType.XorMappedAddress)).toBe(false);
  });
});

describe('StunServer: bad input', () => {
  it('never answers responses or indications', () => {
    const s = new StunServer();
    for (const cls of [MessageClass.Indication, MessageClass.Success, MessageClass.Error]) {
      const b = new MessageBuilder().reset(Method.Binding, cls, ID).build();
      expect(ask(s, b)).toMatchObject({ verdict: 'not-request', answer: undefined });
    }
  });

  it('is silent on non-STUN input', () => {
    const s = new StunServer();
    expect(ask(s, new Uint8Array([0x80, 0, 0, 0])).verdict).toBe('not-stun');
    expect(ask(s, new Uint8Array(40).fill(0x80)).verdict).toBe('not-stun');
    const noCookie = request();
    noCookie[4] = 0;
    noCookie[3] = 3; // breaks the length too: cannot be classic STUN either
    expect(ask(s, noCookie)).toMatchObject({ verdict: 'not-stun', answer: undefined });
    expect(s.stats['not-stun']).toBe(3);
  });

  it('silently discards a malformed request that has a valid header (RFC 8489 §6.3)', () => {
    const bytes = request((b) => b.addSoftware('xyz'));
    bytes[22] = 0; // attribute length 0x00?? → beyond the message
    bytes[23] = 200;
    expect(ask(new StunServer(), bytes)).toMatchObject({ verdict: 'malformed', answer: undefined });
  });

  it('silently discards a method it does not serve (RFC 8489 §6.3)', () => {
    const s = new StunServer();
    expect(ask(s, request(undefined, Method.Allocate))).toMatchObject({
      verdict: 'unsupported-method',
      answer: undefined,
    });
  });

  it('420 with UNKNOWN-ATTRIBUTES for unknown comprehension-required attributes; ignores optional ones', () => {
    const bytes = request((b) => b.addRaw(0x7f01, new Uint8Array(4)).addRaw(0xc001, new Uint8Array(4)));
    const { verdict, answer } = ask(new StunServer(), bytes);
    expect(verdict).toBe('unknown-attribute');
    expect(answer!.errorCode()?.code).toBe(420);
    expect(answer!.unknownAttributes()).toEqual([0x7f01]);
    expect(
      ask(
        new StunServer(),
        request((b) => b.addRaw(0xc001, new Uint8Array(4))),
      ).verdict,
    ).toBe('success');
  });

  it('drops a request whose FINGERPRINT is wrong', () => {
    const bytes = request((b) => b.addFingerprint());
    bytes[bytes.length - 1]! ^= 1;
    expect(ask(new StunServer(), bytes)).toMatchObject({ verdict: 'bad-fingerprint', answer: undefined });
  });

  it('bounds its output queue and counts what it drops', () => {
    const s = new StunServer({ maxQueuedTransmits: 2 });
    expect([0, 1, 2].map(() => s.handleInput(request(), CLIENT, 0))).toEqual([
      'success',
      'success',
      'dropped',
    ]);
    expect(s.stats.dropped).toBe(1);
  });

  it('responses queued by several datagrams before a poll stay intact (each its own bytes)', () => {
    const s = new StunServer({ fingerprint: true });
    const ports = [40001, 40002, 40003];
    for (const [i, port] of ports.entries()) {
      const id = ID.map((x) => x + i);
      const req = new MessageBuilder().reset(Method.Binding, MessageClass.Request, id).build();
      expect(s.handleInput(req, { ...CLIENT, port }, 0)).toBe('success');
    }
    // An error response in between reuses the builder too.
    expect(
      s.handleInput(
        request((b) => b.addRaw(0x7f01, new Uint8Array(4))),
        CLIENT,
        0,
      ),
    ).toBe('unknown-attribute');
    const out = drainTransmits(s);
    expect(out).toHaveLength(4);
    for (const [i, port] of ports.entries()) {
      const r = decode(out[i]!.payload);
      if (!r.ok) throw new Error(r.error.message);
      expect(r.message.transactionId).toEqual(ID.map((x) => x + i));
      expect(r.message.xorMappedAddress()).toEqual({ ...CLIENT, port });
      expect(verifyFingerprint(r.message)).toBe('ok');
    }
    const last = decode(out[3]!.payload);
    expect(last.ok && last.message.messageClass).toBe(MessageClass.Error);
  });

  it('a polled response stays valid until the next call, as the Transmit contract promises', () => {
    const s = new StunServer();
    s.handleInput(request(), CLIENT, 0);
    const t = s.pollTransmit()!;
    const before = t.payload.slice();
    expect(s.pollTransmit()).toBeUndefined();
    expect(s.pollTimeout()).toBeUndefined();
    expect(t.payload).toEqual(before);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.boolean()])(
    'never throws on arbitrary bytes, answers only what looks like a request, never amplifies',
    (bytes, asStunHeader) => {
      const s = new StunServer({ software: 'natkit', fingerprint: true, mappedAddress: 'always' });
      const input = bytes.slice();
      if (asStunHeader && input.length >= 20) {
        input[0]! &= 0x3e; // request class bits cleared… mostly
        input.set([0x21, 0x12, 0xa4, 0x42], 4);
        input[2] = ((input.length - 20) >> 8) & 0xff;
        input[3] = (input.length - 20) & 0xfc;
      }
      s.handleInput(input, V6, 0);
      for (const t of drainTransmits(s)) {
        expect(t.payload.length).toBeLessThanOrEqual(input.length + 56);
        const r = decode(t.payload);
        expect(r.ok).toBe(true);
      }
    },
  );

  test.prop([
    fc.array(fc.record({ type: fc.integer({ min: 0x8030, max: 0xffff }), len: fc.nat(40) }), {
      maxLength: 6,
    }),
    fc.boolean(),
    fc.boolean(),
  ])('a success response is never larger than its request plus the mapped address(es)', (attrs, v6, fp) => {
    const s = new StunServer({ software: 'a long server software string, v1.2.3', mappedAddress: 'always' });
    const req = request((b) => {
      for (const a of attrs) b.addRaw(a.type, new Uint8Array(a.len));
      if (fp) b.addFingerprint();
    });
    const { verdict, bytes } = ask(s, req, v6 ? V6 : CLIENT);
    expect(verdict).toBe('success');
    expect(bytes!.length).toBeLessThanOrEqual(req.length + 2 * (v6 ? 24 : 12));
  });
});

describe('StunServer: short-term credentials', () => {
  const server = () =>
    new StunServer({ auth: { type: 'short-term', password: (u) => (u === 'ab:cd' ? 'pass' : undefined) } });
  const key = shortTermKey('pass');

  it('accepts a valid request and protects the response with the same password', () => {
    const { verdict, answer } = ask(
      server(),
      request((b) => b.addUsername('ab:cd').addMessageIntegrity(key)),
    );
    expect(verdict).toBe('success');
    expect(verifyMessageIntegrity(answer!, key)).toBe('ok');
    expect(answer!.has(AttrType.Username)).toBe(false);
  });

  it('answers MESSAGE-INTEGRITY-SHA256 with MESSAGE-INTEGRITY-SHA256', () => {
    const { answer } = ask(
      server(),
      request((b) => b.addUsername('ab:cd').addMessageIntegritySha256(key)),
    );
    expect(verifyMessageIntegritySha256(answer!, key)).toBe('ok');
    expect(answer!.has(AttrType.MessageIntegrity)).toBe(false);
  });

  it('400 without USERNAME or integrity, 401 for unknown users or a bad MAC; errors carry no integrity', () => {
    const s = server();
    expect(ask(s, request()).answer!.errorCode()?.code).toBe(400);
    expect(
      ask(
        s,
        request((b) => b.addUsername('ab:cd')),
      ).answer!.errorCode()?.code,
    ).toBe(400);
    const wrongUser = ask(
      s,
      request((b) => b.addUsername('zz:cd').addMessageIntegrity(key)),
    ).answer!;
    expect(wrongUser.errorCode()?.code).toBe(401);
    const badMac = ask(
      s,
      request((b) => b.addUsername('ab:cd').addMessageIntegrity(shortTermKey('nope'))),
    ).answer!;
    expect(badMac.errorCode()?.code).toBe(401);
    expect(badMac.has(AttrType.MessageIntegrity)).toBe(false);
  });

  it('checks authentication before unknown attributes, then protects the 420', () => {
    const { answer } = ask(
      server(),
      request((b) => b.addRaw(0x7777, new Uint8Array(4)).addUsername('ab:cd').addMessageIntegrity(key)),
    );
    expect(answer!.errorCode()?.code).toBe(420);
    expect(verifyMessageIntegrity(answer!, key)).toBe('ok');
  });
});

describe('StunServer: long-term credentials (RFC 8489 §9.2.4)', () => {
  const realm = 'example.org';
  const users: Record<string, string> = { alice: 'wonderland' };
  const server = (extra: { nonceLifetime?: number; algorithms?: ('sha256' | 'md5')[] } = {}) =>
    new StunServer({
      random: seededRandom(7),
      auth: { type: 'long-term', realm, password: (u) => users[u], ...extra },
    });

  it('401 with REALM, a cookie-prefixed NONCE and PASSWORD-ALGORITHMS when unauthenticated', () => {
    const { verdict, answer } = ask(server(), request());
    expect(verdict).toBe('unauthenticated');
    expect(answer!.errorCode()?.code).toBe(401);
    expect(answer!.realm()).toBe(realm);
    expect(parseNonceCookie(answer!.nonce()!)).toMatchObject({
      passwordAlgorithms: true,
      usernameAnonymity: false,
    });
    expect(answer!.passwordAlgorithms()?.map((a) => a.algorithm)).toEqual([
      PasswordAlgorithm.SHA256,
      PasswordAlgorithm.MD5,
    ]);
  });

  function authed(
    nonce: string,
    opts: { user?: string; pass?: string; alg?: 'md5' | 'sha256' | 'none'; list?: Uint8Array } = {},
  ) {
    const alg = opts.alg ?? 'sha256';
    const key = longTermKey(
      opts.user ?? 'alice',
      realm,
      opts.pass ?? 'wonderland',
      alg === 'none' ? 'md5' : alg,
    );
    return request((b) => {
      b.addUsername(opts.user ?? 'alice')
        .addRealm(realm)
        .addNonce(nonce);
      if (alg !== 'none') {
        b.addRaw(AttrType.PasswordAlgorithms, opts.list ?? new Uint8Array([0, 2, 0, 0, 0, 1, 0, 0]));
        b.addPasswordAlgorithm({
          algorithm: alg === 'sha256' ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5,
        });
        b.addMessageIntegritySha256(key);
      } else {
        b.addMessageIntegrity(key);
      }
    });
  }

  it('accepts the retry with the issued nonce (SHA-256 and MD5 fallback) and protects the answer', () => {
    const s = server();
    const nonce = ask(s, request(), CLIENT, 0).answer!.nonce()!;
    const ok = ask(s, authed(nonce), CLIENT, 10).answer!;
    expect(ok.messageClass).toBe(MessageClass.Success);
    expect(verifyMessageIntegritySha256(ok, longTermKey('alice', realm, 'wonderland', 'sha256'))).toBe('ok');
    const md5 = ask(s, authed(nonce, { alg: 'none' }), CLIENT, 10).answer!;
    expect(verifyMessageIntegrity(md5, new IntegrityKey(longTermKey('alice', realm, 'wonderland')))).toBe(
      'ok',
    );
  });

  it('401 for an unknown user or a wrong password; 400 for missing fields or a tampered algorithm list', () => {
    const s = server();
    const nonce = ask(s, request()).answer!.nonce()!;
    expect(ask(s, authed(nonce, { user: 'bob' })).answer!.errorCode()?.code).toBe(401);
    const wrong = ask(s, authed(nonce, { pass: 'x' })).answer!;
    expect(wrong.errorCode()?.code).toBe(401);
    expect(wrong.nonce()).toBeDefined();
    const noRealm = request((b) =>
      b.addUsername('alice').addNonce(nonce).addMessageIntegrity(new Uint8Array(16)),
    );
    expect(ask(s, noRealm).answer!.errorCode()?.code).toBe(400);
    const tampered = authed(nonce, { list: new Uint8Array([0, 1, 0, 0]) });
    expect(ask(s, tampered).answer!.errorCode()?.code).toBe(400);
  });

  it('438 once the nonce expired, or for a nonce issued to another address or forged', () => {
    const s = server({ nonceLifetime: 1000 });
    const nonce = ask(s, request(), CLIENT, 0).answer!.nonce()!;
    expect(ask(s, authed(nonce), CLIENT, 999).verdict).toBe('success');
    const stale = ask(s, authed(nonce), CLIENT, 1000);
    expect(stale.verdict).toBe('stale-nonce');
    expect(stale.answer!.errorCode()?.code).toBe(438);
    expect(stale.answer!.nonce()).not.toBe(nonce);
    expect(ask(s, authed(nonce), { ...CLIENT, port: 1 }, 10).verdict).toBe('stale-nonce');
    const forged = `${nonce.slice(0, -2)}AA`;
    expect(ask(s, authed(forged), CLIENT, 10).verdict).toBe('stale-nonce');
  });

  it('advertises and accepts USERHASH when it can resolve hashes', () => {
    const s = new StunServer({
      auth: {
        type: 'long-term',
        realm,
        password: (u) => users[u],
        username: (h) => (h.every((x, i) => x === aliceHash[i]) ? 'alice' : undefined),
      },
    });
    const aliceHash = userhash('alice', realm);
    const nonce = ask(s, request()).answer!.nonce()!;
    expect(parseNonceCookie(nonce)?.usernameAnonymity).toBe(true);
    const withHash = (hash: Uint8Array) =>
      request((b) => {
        b.addUserhash(hash).addRealm(realm).addNonce(nonce);
        b.addMessageIntegrity(new IntegrityKey(longTermKey('alice', realm, 'wonderland')));
      });
    expect(ask(s, withHash(aliceHash)).verdict).toBe('success');
    expect(ask(s, withHash(new Uint8Array(32))).answer!.errorCode()?.code).toBe(401);
  });

  it('keeps no state per request: two servers with the same secret accept each other’s nonces', () => {
    const secret = new Uint8Array(32).fill(9);
    const mk = () =>
      new StunServer({ auth: { type: 'long-term', realm, password: (u) => users[u], secret } });
    const a = mk();
    const b = mk();
    const nonce = ask(a, request()).answer!.nonce()!;
    expect(ask(b, authed(nonce)).verdict).toBe('success');
  });
});

describe('StunServer: error codes are the ones asked for', () => {
  it('uses the codes from the registry', () => {
    expect(ErrorCode.BadRequest).toBe(400);
  });
});
