/**
 * The demo's application data: RTP-framed pings (RFC 3550 §5.1 fixed header, version 2), so the
 * first byte (0x80) lands in RFC 7983's RTP range and the multiplexer hands them to the
 * application. Payload: the sender's send time (float64 ms) for an echo RTT.
 */
export const PING_LENGTH = 12 + 8;
const PAYLOAD_TYPE = 96; // dynamic (RFC 3551 §6)

export function encodePing(seq: number, ssrc: number, sentAt: number): Uint8Array {
  const b = new Uint8Array(PING_LENGTH);
  const v = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = PAYLOAD_TYPE;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, Math.floor(sentAt * 90) >>> 0); // 90 kHz clock, for the look of it
  v.setUint32(8, ssrc >>> 0);
  v.setFloat64(12, sentAt);
  return b;
}

export interface Ping {
  seq: number;
  ssrc: number;
  sentAt: number;
}

/** Decodes a ping, or `undefined` for anything else. */
export function decodePing(b: Uint8Array): Ping | undefined {
  if (b.length !== PING_LENGTH || b[0] !== 0x80 || (b[1]! & 0x7f) !== PAYLOAD_TYPE) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { seq: v.getUint16(2), ssrc: v.getUint32(8), sentAt: v.getFloat64(12) };
}

/**
 * The SSRC that tells which stream an RTP or RTCP packet belongs to. RTP and RTCP share the
 * port (RFC 5761): a second byte of 192..223 is RTCP (payload types 64..95 are not used by RTP
 * there, §4), whose first packet carries the sender's SSRC at bytes 4..7 (RFC 3550 §6.4.1,
 * §6.4.2, §6.5, §6.6, §6.7; RFC 4585 §6.1); RTP carries it at bytes 8..11 (RFC 3550 §5.1).
 * `undefined` when the packet is too short to hold it.
 */
export function streamSsrc(b: Uint8Array): number | undefined {
  const pt = b[1];
  if (pt === undefined) return undefined;
  const at = pt >= 192 && pt <= 223 ? 4 : 8;
  if (b.length < at + 4) return undefined;
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
