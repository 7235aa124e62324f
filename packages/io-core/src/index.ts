/**
 * @natkit/io-core — the transport-agnostic half of every natkit driver. A driver hands
 * {@link DriverCore} a {@link Platform} (clock, send, yield to I/O) and feeds it datagrams;
 * the core runs the machine: input, transmits, exactly one timer, events, busy-loop guard,
 * machine errors as events. `@natkit/io-node` and `@natkit/io-deno` are thin sockets around it.
 * @module
 */

export { IPV4_MAPPED_PREFIX, peerAddress } from './address.ts';
export { DriverBase, type EventOf, WILDCARD_ADDRESSES } from './driver-base.ts';
export {
  type CloseReason,
  type DriverEvent,
  type DriverStats,
  type EventStream,
  errorCode,
  type MachinePhase,
  newStats,
} from './events.ts';
export { DriverCore, type DriverOptions, type Platform } from './loop.ts';
