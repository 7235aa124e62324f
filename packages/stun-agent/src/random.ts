import type { RandomSource } from '@natkit/sans-io';

/**
 * The default {@link RandomSource}: the platform CSPRNG (`globalThis.crypto.getRandomValues`),
 * present in Node ≥ 19, Deno, Bun and browsers. Transaction IDs must be cryptographically
 * random (RFC 8489 §5) so that an off-path attacker cannot forge responses.
 */
export const defaultRandom: RandomSource = (bytes) => {
  // getRandomValues refuses more than 65536 bytes per call.
  for (let off = 0; off < bytes.length; off += 65536) {
    // The cast: getRandomValues is typed for ArrayBuffer-backed views only; shared buffers work too.
    globalThis.crypto.getRandomValues(
      bytes.subarray(off, Math.min(bytes.length, off + 65536)) as Uint8Array<ArrayBuffer>,
    );
  }
};
