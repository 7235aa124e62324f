import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, MessageBuilder, type StunMessage } from '../src/index.ts';
import { reference, type Visit } from './reference-walk.ts';
import { SAMPLE_IPV4_RESPONSE, SAMPLE_REQUEST, SHA256_REQUEST } from './vectors.ts';

function byCursor(m: StunMessage): Visit[] {
  const out: Visit[] = [];
  for (let o = m.firstAttribute(); o >= 0; o = m.nextAttribute(o)) {
    out.push([m.attributeType(o), o + 4, m.attributeLength(o)]);
  }
  return out;
}

function byCallback(m: StunMessage): Visit[] {
  const out: Visit[] = [];
  m.forEachAttribute((type, valueOffset, length) => out.push([type, valueOffset, length]));
  return out;
}

const soup = fc.array(
  fc.record({
    type: fc.oneof(
      fc.constantFrom(0x0008, 0x001c, 0x8028),
      fc.constantFrom(0x0006, 0x0024, 0x8022, 0x8029, 0x4000),
      fc.nat(0xffff),
    ),
    value: fc.uint8Array({ maxLength: 40, size: 'max' }),
  }),
  { maxLength: 14, size: 'max' },
);

describe('attribute cursor', () => {
  it('visits what forEachAttribute and attributes() visit, in wire order, as the RFC rules index them', () => {
    // Up to ~630 bytes: plain attributes past offset 132 switch the index from a bit set to
    // the TLV chain, so both kinds of index are walked.
    fc.assert(
      fc.property(soup, (attrs) => {
        const b = new MessageBuilder().reset(1, 0, SAMPLE_REQUEST.subarray(8, 20));
        for (const a of attrs) b.addRaw(a.type, a.value);
        const r = decode(b.view());
        if (!r.ok) {
          expect(r.error.reason).toBe('after-fingerprint');
          return;
        }
        const m = r.message;
        const want = reference(m.bytes);
        const got = byCursor(m);
        expect(got).toEqual(want.visits);
        expect(byCallback(m)).toEqual(want.visits);
        expect([...m.attributes()].map((a) => [a.type, a.offset + 4, a.value.length])).toEqual(got);
        expect(m.attributeCount).toBe(got.length);
        expect(m.ignoredAfterIntegrity).toBe(want.ignored);
        let prev = -1;
        for (let o = m.firstAttribute(); o >= 0; o = m.nextAttribute(o)) {
          expect(o).toBeGreaterThan(prev);
          expect(m.attributeValue(o)).toEqual(m.bytes.subarray(o + 4, o + 4 + m.attributeLength(o)));
          expect(m.attributeValue(o).buffer).toBe(m.bytes.buffer); // a view, not a copy
          prev = o;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('nextAttribute of any number is -1 or beyond it, so every loop ends', () => {
    fc.assert(
      fc.property(soup, fc.integer({ min: -5, max: 700 }), (attrs, offset) => {
        const b = new MessageBuilder().reset(1, 0, SAMPLE_REQUEST.subarray(8, 20));
        for (const a of attrs) b.addRaw(a.type, a.value);
        const r = decode(b.view());
        if (!r.ok) return;
        const next = r.message.nextAttribute(offset);
        expect(next === -1 || next > offset).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('walks the RFC 5769 vectors by offset', () => {
    const req = decode(SAMPLE_REQUEST);
    const res = decode(SAMPLE_IPV4_RESPONSE);
    const sha = decode(SHA256_REQUEST);
    if (!req.ok || !res.ok || !sha.ok) throw new Error('RFC 5769 vectors must decode');
    const offsets = (m: StunMessage) => byCursor(m).map((v) => v[1] - 4);
    expect(offsets(req.message)).toEqual([20, 40, 48, 60, 76, 100]);
    expect(byCursor(req.message).map((v) => v[0])).toEqual([0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028]);
    expect(offsets(res.message)).toEqual([20, 36, 48, 72]);
    expect(byCursor(sha.message)).toEqual(byCallback(sha.message));
    expect(req.message.attributeType(48)).toBe(0x8029);
    expect(req.message.attributeLength(48)).toBe(8);
  });

  it('a message without attributes has no first attribute; one with only FINGERPRINT has one', () => {
    const empty = decode(new MessageBuilder().reset(1, 0, new Uint8Array(12)).build());
    const fpOnly = decode(new MessageBuilder().reset(1, 0, new Uint8Array(12)).addFingerprint().build());
    if (!empty.ok || !fpOnly.ok) throw new Error('must decode');
    expect(empty.message.firstAttribute()).toBe(-1);
    expect(byCursor(fpOnly.message)).toEqual([[0x8028, 24, 4]]);
    expect(fpOnly.message.nextAttribute(20)).toBe(-1);
  });

  it('the message is its own success result', () => {
    const r = decode(SAMPLE_REQUEST);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message.message).toBe(r.message);
  });
});
