/** UTF-8 helpers shared by the decoder and the builder. */

const encoder = new TextEncoder();
// `fatal` so malformed UTF-8 from the network becomes `undefined`, not U+FFFD soup.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `s`. */
export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Writes the UTF-8 bytes of `s` at `offset` in `out` and returns how many bytes were written.
 * The caller makes sure there is room for `s.length * 3` bytes.
 */
export function utf8EncodeInto(s: string, out: Uint8Array, offset: number): number {
  // ASCII (the usual username/realm/software) is copied directly: cheaper than a subarray
  // plus a call into the encoder for a dozen bytes.
  const n = s.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[offset + i] = c;
    }
    if (i === n) return n;
  }
  return encoder.encodeInto(s, out.subarray(offset)).written;
}

/** Decodes UTF-8, or returns `undefined` when the bytes are not valid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  // Short ASCII strings (usernames, realms, nonces) are the common case: skip the decoder.
  const n = bytes.length;
  if (n <= 64) {
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decodeSlow(bytes);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeSlow(bytes);
}

function decodeSlow(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
