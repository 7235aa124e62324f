// StunServer against the RFC text where a review found it lax: silent discards (RFC 8489 §6.3).
import { fc, test } from '@fast-check/vitest';
import { decode, MessageBuilder, MessageClass, Method, type StunMessage } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunServer } from '../src/server.ts';
import { CLIENT, drainTransmits } from './helpers.ts';

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
