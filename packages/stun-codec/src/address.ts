/**
 * Address attribute values: MAPPED-ADDRESS and its XOR'ed sibling (RFC 8489 §14.1, §14.2),
 * shared by ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS (RFC 5780 §7.1) and the TURN
 * XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS (RFC 8656 §18.3, §18.5).
 */
import type { SocketAddress } from '@natkit/sans-io';

/**
 * Reads an address value. `xorKey` is the 16 bytes (cookie ‖ transaction ID) starting at
 * header offset 4, or undefined for the plain layout. Returns undefined when the length does
 * not match the family or the family is unknown.
 */
export function readAddress(value: Uint8Array, xorKey: Uint8Array | undefined): SocketAddress | undefined {
  const len = value.length;
  if (len < 4) return undefined;
  const family = value[1];
  let port = (value[2]! << 8) | value[3]!;
  if (xorKey !== undefined) port ^= (xorKey[0]! << 8) | xorKey[1]!;
  if (family === 0x01) {
    if (len !== 8) return undefined;
    if (xorKey === undefined) {
      return { address: `${value[4]}.${value[5]}.${value[6]}.${value[7]}`, port, family: 'IPv4' };
    }
    return {
      address: `${value[4]! ^ xorKey[0]!}.${value[5]! ^ xorKey[1]!}.${value[6]! ^ xorKey[2]!}.${value[7]! ^ xorKey[3]!}`,
      port,
      family: 'IPv4',
    };
  }
  if (family === 0x02) {
    if (len !== 20) return undefined;
    // A classic (RFC 3489) header has no cookie and a 16-byte ID; the XOR key then is just
    // bytes 4..19 of the header, which is what the caller passes either way.
    const words = new Array<number>(8);
    for (let i = 0; i < 8; i++) {
      const o = 4 + 2 * i;
      let hi = value[o]!;
      let lo = value[o + 1]!;
      if (xorKey !== undefined) {
        hi ^= xorKey[2 * i]!;
        lo ^= xorKey[2 * i + 1]!;
      }
      words[i] = (hi << 8) | lo;
    }
    return { address: formatIPv6(words), port, family: 'IPv6' };
  }
  return undefined;
}

/** Formats eight 16-bit groups per RFC 5952 (lowercase, longest zero run of 2+ compressed). */
export function formatIPv6(words: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return words.map((w) => w.toString(16)).join(':');
  const head = words.slice(0, bestStart).map((w) => w.toString(16));
  const tail = words.slice(bestStart + bestLen).map((w) => w.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
}

/** Parses dotted-quad IPv4 into 4 bytes at `out[offset..]`; false when malformed. */
export function parseIPv4Into(s: string, out: Uint8Array, offset: number): boolean {
  // A hand loop: this runs for every XOR-MAPPED-ADDRESS a server writes.
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/**
 * Parses a textual IPv6 address (with `::` compression, an optional embedded IPv4 tail and an
 * optional `%zone`, which is dropped) into 16 bytes at `out[offset..]`; false when malformed.
 */
export function parseIPv6Into(s: string, out: Uint8Array, offset: number): boolean {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const words: number[] = [];
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const res: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIPv4Into(g, v4, 0)) return undefined;
        res.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      res.push(Number.parseInt(g, 16));
    }
    return res;
  };
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    if (s.indexOf('::', dbl + 1) >= 0) return false;
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (head === undefined || tail === undefined) return false;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return false;
    words.push(...head);
    for (let i = 0; i < fill; i++) words.push(0);
    words.push(...tail);
  } else {
    const all = parseGroups(s, true);
    if (all === undefined || all.length !== 8) return false;
    words.push(...all);
  }
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = words[i]! >> 8;
    out[offset + 2 * i + 1] = words[i]! & 0xff;
  }
  return true;
}
