// A plain Deno UDP socket on loopback, playing the remote side in driver tests.
import type { SocketAddress } from '@natkit/sans-io';

export interface Peer {
  address: SocketAddress;
  send(data: Uint8Array | string, to: SocketAddress): Promise<void>;
  /** The next datagram. */
  next(): Promise<{ data: Uint8Array; text: string; from: SocketAddress }>;
  close(): void;
}

export function udpPeer(family: 'IPv4' | 'IPv6' = 'IPv4'): Peer {
  const conn = Deno.listenDatagram({
    transport: 'udp',
    hostname: family === 'IPv6' ? '::1' : '127.0.0.1',
    port: 0,
  });
  const addr = conn.addr as Deno.NetAddr;
  return {
    address: { address: addr.hostname, port: addr.port, family },
    async send(data, to) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      await conn.send(bytes, { transport: 'udp', hostname: to.address, port: to.port });
    },
    async next() {
      const [data, from] = await conn.receive();
      const f = from as Deno.NetAddr;
      return {
        data,
        text: new TextDecoder().decode(data),
        from: { address: f.hostname, port: f.port, family: f.hostname.includes(':') ? 'IPv6' : 'IPv4' },
      };
    },
    close() {
      conn.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(2);
  }
}
