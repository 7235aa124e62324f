/**
 * TURN ChannelData framing (RFC 8656 §12.4–§12.6):
 * `[channel number:16][length:16][application data][padding to 4 over TCP/TLS]`.
 */

/** Lowest and highest valid channel numbers (RFC 8656 §12). */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x4fff;

export type ChannelDataErrorReason =
  /** Fewer than the 4 header bytes. */
  | 'too-short'
  /** Channel number outside 0x4000–0x4FFF (RFC 8656 §12: drop silently). */
  | 'bad-channel'
  /** The datagram is shorter than 4 + Length, or longer than that rounded up to 4. */
  | 'length-mismatch';

export interface ChannelDataError {
  reason: ChannelDataErrorReason;
  message: string;
}

export type ChannelDataResult =
  | { ok: true; channel: number /** View of the application data (not copied). */; data: Uint8Array }
  | { ok: false; error: ChannelDataError };

/** Cheap demux check: a valid channel number and a Length that fits the datagram. */
export function isChannelData(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 4) return false;
  const b0 = bytes[0]!;
  if (b0 < 0x40 || b0 > 0x4f) return false;
  const len = (bytes[2]! << 8) | bytes[3]!;
  return n >= 4 + len && n <= 4 + ((len + 3) & ~3);
}

/**
 * Decodes a ChannelData message. Padding (up to the next multiple of 4, as sent over TCP) is
 * accepted; anything longer is a `length-mismatch`. Never throws.
 */
export function decodeChannelData(bytes: Uint8Array): ChannelDataResult {
  const n = bytes.length;
  if (n < 4) return { ok: false, error: { reason: 'too-short', message: `${n} bytes is shorter than 4` } };
  const channel = (bytes[0]! << 8) | bytes[1]!;
  if (channel < CHANNEL_MIN || channel > CHANNEL_MAX) {
    return {
      ok: false,
      error: { reason: 'bad-channel', message: `channel 0x${channel.toString(16)} is not 0x4000–0x4fff` },
    };
  }
  const len = (bytes[2]! << 8) | bytes[3]!;
  if (n < 4 + len || n > 4 + ((len + 3) & ~3)) {
    return {
      ok: false,
      error: { reason: 'length-mismatch', message: `length ${len} does not fit the ${n}-byte datagram` },
    };
  }
  return { ok: true, channel, data: bytes.subarray(4, 4 + len) };
}

/**
 * Encodes a ChannelData message. `pad: true` pads to a multiple of 4 (required over TCP/TLS,
 * optional over UDP). Throws on a channel outside 0x4000–0x4FFF or data over 65535 bytes.
 */
export function encodeChannelData(
  channel: number,
  data: Uint8Array,
  options?: { pad?: boolean },
): Uint8Array {
  if (!Number.isInteger(channel) || channel < CHANNEL_MIN || channel > CHANNEL_MAX) {
    throw new RangeError(`channel ${channel} is outside 0x4000–0x4fff`);
  }
  if (data.length > 0xffff) throw new RangeError('ChannelData payload longer than 65535 bytes');
  const len = data.length;
  const out = new Uint8Array(4 + (options?.pad ? (len + 3) & ~3 : len));
  out[0] = channel >>> 8;
  out[1] = channel & 0xff;
  out[2] = len >>> 8;
  out[3] = len & 0xff;
  out.set(data, 4);
  return out;
}
