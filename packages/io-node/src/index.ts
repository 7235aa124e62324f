/**
 * @natkit/io-node — run any natkit sans-IO machine over a `node:dgram` UDP socket.
 * @module
 */
export { type BindOptions, bindUdp, type EventOf, UdpDriver, type UdpDriverOptions } from './driver.ts';
export {
  type CloseReason,
  type DriverEvent,
  type DriverStats,
  type EventStream,
  errorCode,
  type MachinePhase,
} from './events.ts';
export type { DriverOptions } from './loop.ts';
