// Placeholder until the codec lands: proves the toolchain runs TypeScript from source.
import type { SocketAddress } from '@natkit/sans-io';

const a: SocketAddress = { address: '127.0.0.1', port: 3478, family: 'IPv4' };
console.log('natkit example: ', a);
