/** Transaction ID helpers (RFC 8489 §5). */

/**
 * A transaction ID as a short string for `Map` keys: one char per byte (latin1), 12 chars
 * (16 for classic IDs). Cheaper than hex and unique per ID.
 */
export function transactionIdKey(id: Uint8Array): string {
  if (id.length === 12) {
    return String.fromCharCode(
      id[0]!,
      id[1]!,
      id[2]!,
      id[3]!,
      id[4]!,
      id[5]!,
      id[6]!,
      id[7]!,
      id[8]!,
      id[9]!,
      id[10]!,
      id[11]!,
    );
  }
  let s = '';
  for (let i = 0; i < id.length; i++) s += String.fromCharCode(id[i]!);
  return s;
}
