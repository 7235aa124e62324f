import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  formatCandidate,
  formatIceLines,
  parseCandidate,
  parseIceDescription,
  parseIceLine,
} from '../src/index.ts';

describe('a=candidate (RFC 8839 §5.1)', () => {
  it('parses the RFC example with raddr/rport', () => {
    const r = parseCandidate(
      'a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 203.0.113.141 rport 8998',
    );
    expect(r).toEqual({
      ok: true,
      candidate: {
        foundation: '2',
        component: 1,
        transport: 'UDP',
        priority: 1694498815,
        address: { address: '192.0.2.3', port: 45664, family: 'IPv4' },
        type: 'srflx',
        related: { address: '203.0.113.141', port: 8998, family: 'IPv4' },
      },
    });
  });
  it('keeps Chromium extensions (generation, ufrag, network-id) and lower-case transport', () => {
    const r = parseCandidate(
      'candidate:3907433385 1 udp 2113937151 127.0.0.1 54400 typ host generation 0 ufrag Ab+/ network-id 1 network-cost 10',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.candidate.transport).toBe('UDP');
    expect(r.candidate.extensions).toEqual({
      generation: '0',
      ufrag: 'Ab+/',
      'network-id': '1',
      'network-cost': '10',
    });
  });
  it('parses IPv6', () => {
    const r = parseCandidate('candidate:1 1 UDP 2130706431 2001:db8::1 5000 typ host');
    expect(r.ok && r.candidate.address).toEqual({ address: '2001:db8::1', port: 5000, family: 'IPv6' });
  });
  it.each([
    ['candidate:1 1 UDP 1 1.2.3.4 5 typ', 'too-few-fields'],
    ['foo:1 1 UDP 1 1.2.3.4 5 typ host', 'not-a-candidate'],
    ['candidate:a-b 1 UDP 1 1.2.3.4 5 typ host', 'bad-foundation'],
    [`candidate:${'a'.repeat(33)} 1 UDP 1 1.2.3.4 5 typ host`, 'bad-foundation'],
    ['candidate:1 0 UDP 1 1.2.3.4 5 typ host', 'bad-component'],
    ['candidate:1 257 UDP 1 1.2.3.4 5 typ host', 'bad-component'],
    ['candidate:1 1 UDP 0 1.2.3.4 5 typ host', 'bad-priority'],
    ['candidate:1 1 UDP 2147483648 1.2.3.4 5 typ host', 'bad-priority'],
    ['candidate:1 1 UDP 1 1.2.3.4 65536 typ host', 'bad-port'],
    ['candidate:1 1 UDP 1 1.2.3.4 5 type host', 'bad-type'],
    ['candidate:1 1 UDP 1 1.2.3.4 5 typ weird', 'unsupported-type'],
    ['candidate:1 1 UDP 1 abc.local 5 typ host', 'unsupported-address'],
    ['candidate:1 1 UDP 1 1.2.3.456 5 typ host', 'unsupported-address'],
    ['candidate:1 1 UDP 1 1.2.3.4 5 typ srflx raddr 1.2.3.4', 'bad-related-address'],
    ['candidate:1 1 UDP 1 1.2.3.4 5 typ srflx raddr 1.2.3.4 rport x', 'bad-related-address'],
  ])('rejects %s (%s)', (line, reason) => {
    expect(parseCandidate(line)).toEqual({ ok: false, reason });
  });
  it('formats with the raddr placeholder when a reflexive candidate hides its base', () => {
    const c: Candidate = {
      foundation: '9',
      component: 1,
      transport: 'UDP',
      priority: 1,
      address: { address: '1.2.3.4', port: 5, family: 'IPv4' },
      type: 'prflx',
    };
    expect(formatCandidate(c)).toBe('candidate:9 1 UDP 1 1.2.3.4 5 typ prflx raddr 0.0.0.0 rport 9');
  });

  const candidateArb = fc.record(
    {
      foundation: fc.stringMatching(/^[A-Za-z0-9+/]{1,32}$/),
      component: fc.integer({ min: 1, max: 256 }),
      transport: fc.constant('UDP'),
      priority: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      address: fc.oneof(
        fc.ipV4().map((a) => ({ address: a, family: 'IPv4' as const })),
        fc.ipV6().map((a) => ({ address: a, family: 'IPv6' as const })),
      ),
      port: fc.integer({ min: 0, max: 65535 }),
      type: fc.constantFrom('host', 'srflx', 'prflx', 'relay' as const),
      related: fc.option(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })), { nil: undefined }),
    },
    { noNullableKeys: true } as never,
  );
  test.prop([candidateArb])('format → parse round-trips', (a) => {
    const c: Candidate = {
      foundation: a.foundation,
      component: a.component,
      transport: a.transport,
      priority: a.priority,
      address: { address: a.address.address, port: a.port, family: a.address.family },
      type: a.type,
      ...(a.related
        ? { related: { address: a.related[0], port: a.related[1], family: 'IPv4' as const } }
        : {}),
    };
    const r = parseCandidate(formatCandidate(c));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    if (c.type === 'host' || c.related) expect(r.candidate).toEqual(c);
    else {
      const v6 = c.address.family === 'IPv6';
      const related = { address: v6 ? '::' : '0.0.0.0', port: 9, family: v6 ? 'IPv6' : 'IPv4' };
      expect(r.candidate).toEqual({ ...c, related });
    }
  });
  test.prop([fc.string({ maxLength: 200 })])('never throws on arbitrary text', (s) => {
    parseCandidate(`candidate:${s}`);
    parseIceLine(`a=${s}`);
  });
});

describe('ICE lines and descriptions', () => {
  it('validates ufrag/pwd lengths', () => {
    expect(parseIceLine('a=ice-ufrag:abc')).toMatchObject({ type: 'invalid', attribute: 'ice-ufrag' });
    expect(parseIceLine('a=ice-ufrag:abcd')).toEqual({ type: 'ice-ufrag', ufrag: 'abcd' });
    expect(parseIceLine(`a=ice-pwd:${'p'.repeat(21)}`)).toMatchObject({ type: 'invalid' });
    expect(parseIceLine(`a=ice-pwd:${'p'.repeat(22)}`)).toEqual({ type: 'ice-pwd', pwd: 'p'.repeat(22) });
    expect(parseIceLine('a=ice-lite')).toEqual({ type: 'ice-lite' });
    expect(parseIceLine('a=end-of-candidates')).toEqual({ type: 'end-of-candidates' });
    expect(parseIceLine('a=ice-options:trickle ice2')).toEqual({
      type: 'ice-options',
      options: ['trickle', 'ice2'],
    });
    expect(parseIceLine('a=rtcp-mux')).toEqual({ type: 'other' });
  });
  it('reads a browser-like offer (media level wins, later sections skipped)', () => {
    const sdp = [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=ice-ufrag:sess',
      'a=group:BUNDLE 0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 0.0.0.0',
      'a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0',
      'a=candidate:2 1 udp 2113937151 abcd.local 50001 typ host generation 0',
      'a=ice-ufrag:med1',
      'a=ice-pwd:0123456789012345678901',
      'a=ice-options:trickle',
      'a=end-of-candidates',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=ice-ufrag:med2',
      '',
    ].join('\r\n');
    const d = parseIceDescription(sdp);
    expect(d.ufrag).toBe('med1');
    expect(d.pwd).toBe('0123456789012345678901');
    expect(d.lite).toBe(false);
    expect(d.options).toEqual(['trickle']);
    expect(d.candidates).toHaveLength(1);
    expect(d.endOfCandidates).toBe(true);
    expect(d.ignored).toEqual([{ attribute: 'candidate', reason: 'unsupported-address' }]);
  });
  it('formats an ICE-lite answer block', () => {
    const lines = formatIceLines({
      ufrag: 'abcd',
      pwd: 'p'.repeat(22),
      lite: true,
      candidates: [
        {
          foundation: '1',
          component: 1,
          transport: 'UDP',
          priority: 2130706431,
          address: { address: '127.0.0.1', port: 4000, family: 'IPv4' },
          type: 'host',
        },
      ],
      endOfCandidates: true,
    });
    expect(lines).toEqual([
      'a=ice-lite',
      'a=ice-ufrag:abcd',
      `a=ice-pwd:${'p'.repeat(22)}`,
      'a=candidate:1 1 UDP 2130706431 127.0.0.1 4000 typ host',
      'a=end-of-candidates',
    ]);
    const back = parseIceDescription(lines.join('\n'));
    expect(back.lite && back.endOfCandidates && back.candidates.length === 1).toBe(true);
  });
});
