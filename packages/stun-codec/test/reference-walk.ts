/**
 * Independent walks of a STUN message's attributes, straight from the bytes, for the cursor,
 * `forEachAttribute` and lookup tests (vitest and Deno import them; this file imports nothing).
 */

/** One attribute visit: its type, the offset of its value, and its value length. */
export type Visit = [type: number, valueOffset: number, length: number];

/**
 * The indexed attributes and the ignored count by RFC 8489 §14.5–§14.7, straight from the
 * bytes: every attribute up to the first MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT, then
 * MESSAGE-INTEGRITY once, MESSAGE-INTEGRITY-SHA256 once and not after itself, FINGERPRINT;
 * anything else after the first of those is ignored.
 */
export function reference(bytes: Uint8Array): { visits: Visit[]; ignored: number } {
  const visits: Visit[] = [];
  let ignored = 0;
  let state = 0; // 0 plain, 1 after MI, 2 after MI-SHA256, 3 after FP
  for (let o = 20; o < bytes.length; o += 4 + ((((bytes[o + 2]! << 8) | bytes[o + 3]!) + 3) & ~3)) {
    const type = (bytes[o]! << 8) | bytes[o + 1]!;
    const v: Visit = [type, o + 4, (bytes[o + 2]! << 8) | bytes[o + 3]!];
    if (type === 0x8028) {
      visits.push(v);
      state = 3;
    } else if (type === 0x001c && state < 2) {
      visits.push(v);
      state = 2;
    } else if (type === 0x0008 && state < 1) {
      visits.push(v);
      state = 1;
    } else if (state === 0) visits.push(v);
    else ignored++;
  }
  return { visits, ignored };
}

/** The plain attributes: every one before the first MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT. */
export function plainAttributes(bytes: Uint8Array): Visit[] {
  const visits: Visit[] = [];
  for (let o = 20; o < bytes.length; ) {
    const type = (bytes[o]! << 8) | bytes[o + 1]!;
    const len = (bytes[o + 2]! << 8) | bytes[o + 3]!;
    if (type === 0x0008 || type === 0x001c || type === 0x8028) break;
    visits.push([type, o + 4, len]);
    o += 4 + ((len + 3) & ~3);
  }
  return visits;
}
