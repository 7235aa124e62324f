/**
 * @natkit/io-node — run any natkit sans-IO machine over a `node:dgram` UDP socket.
 * @module
 */

export {
  type CloseReason,
  type DriverEvent,
  type DriverOptions,
  type DriverStats,
  type EventStream,
  errorCode,
  type MachinePhase,
} from '@natkit/io-core';
export { type BindOptions, bindUdp, type EventOf, UdpDriver, type UdpDriverOptions } from './driver.ts';
