/**
 * @natkit/io-deno — run any natkit sans-IO machine over a `Deno.listenDatagram` UDP socket.
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
export {
  type BindOptions,
  bindUdp,
  type DatagramConn,
  type DenoAddr,
  type DenoUdpAddr,
  type EventOf,
  UdpDriver,
  type UdpDriverOptions,
} from './driver.ts';
