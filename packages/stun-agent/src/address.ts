import type { SocketAddress } from '@natkit/sans-io';

/**
 * A canonical string key for a transport address, so `2001:DB8::1` and `2001:db8:0:0:0:0:0:1`
 * (or the same IPv4 address typed twice) land in the same map slot. Used for response source
 * matching, the per-destination RTO cache and the outstanding-request limit.
 */
export function addressKey(addr: SocketAddress): string {
  return `${canonicalIp(addr.address, addr.family)}|${addr.port}`;
}

/** The canonical text of an IP address (IPv6 fully expanded, lower case; IPv4 unchanged). */
export function canonicalIp(address: string, family: 'IPv4' | 'IPv6'): string {
  if (family === 'IPv4') return address;
  let zone = '';
  let text = address.toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const pct = text.indexOf('%');
  if (pct >= 0) {
    zone = text.slice(pct);
    text = text.slice(0, pct);
  }
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    const hi = (((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16);
    const lo = (((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  const groups =
    halves.length > 1 ? [...head, ...new Array<string>(Math.max(0, missing)).fill('0'), ...rest] : head;
  const n = groups.map((g) => Number.parseInt(g || '0', 16));
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what dual-stack sockets report for IPv4
  // peers) is the same peer as a.b.c.d.
  if (zone === '' && n.length === 8 && n.slice(0, 5).every((g) => g === 0) && n[5] === 0xffff) {
    const hi = n[6]!;
    const lo = n[7]!;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return n.map((g) => g.toString(16)).join(':') + zone;
}

/** Whether two transport addresses are the same peer (canonical IP and port). */
export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && addressKey(a) === addressKey(b);
}
