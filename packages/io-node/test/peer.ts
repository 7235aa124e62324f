// A plain node:dgram socket on loopback, playing the remote side in driver tests.
import { createSocket, type Socket } from 'node:dgram';
import type { SocketAddress } from '@natkit/sans-io';

export interface Peer {
  socket: Socket;
  address: SocketAddress;
  send(data: Uint8Array | string, to: SocketAddress): void;
  /** Resolves with the next datagram (queued ones first). */
  next(): Promise<{ data: Buffer; from: SocketAddress }>;
  close(): Promise<void>;
}

export async function udpPeer(family: 'IPv4' | 'IPv6' = 'IPv4'): Promise<Peer> {
  const socket = createSocket(family === 'IPv6' ? 'udp6' : 'udp4');
  const queue: { data: Buffer; from: SocketAddress }[] = [];
  const waiters: ((m: { data: Buffer; from: SocketAddress }) => void)[] = [];
  socket.on('message', (data, rinfo) => {
    const m = {
      data,
      from: { address: rinfo.address, port: rinfo.port, family: rinfo.family as 'IPv4' | 'IPv6' },
    };
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  await new Promise<void>((resolve) => socket.bind(0, family === 'IPv6' ? '::1' : '127.0.0.1', resolve));
  const info = socket.address();
  return {
    socket,
    address: { address: info.address, port: info.port, family },
    send(data, to) {
      socket.send(typeof data === 'string' ? Buffer.from(data) : data, to.port, to.address);
    },
    next() {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every few ms until it holds (tests bound this by vitest's timeout). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(2);
}

/** Number of active libuv timers (Node's `Timeout` resources). */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
