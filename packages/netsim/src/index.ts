/**
 * @natkit/netsim — a deterministic network in virtual time for testing sans-IO machines:
 * hosts, lossy/jittery links, RFC 4787 NATs, and a trace of every datagram.
 */
export {
  familyOf,
  formatSocketAddress,
  parseSocketAddress,
  sameSocketAddress,
  socketAddress,
} from './address.ts';
export { SimError, type SimErrorKind } from './errors.ts';
export { type LinkConditions, PERFECT_LINK } from './link.ts';
export {
  DEFAULT_NAT,
  type NatBehaviour,
  type NatBehaviourConfig,
  type NatMapping,
  NatPresets,
  type PortAssignment,
} from './nat.ts';
export { hashSeed, Rng } from './random.ts';
export { type HostOptions, type NatOptions, type RunOptions, Sim, type SimOptions } from './sim.ts';
export {
  type BindOptions,
  Endpoint,
  Host,
  type HostInterface,
  Nat,
  Network,
  type TimedEvent,
} from './topology.ts';
export { type DropReason, formatTraceEntry, type TraceEntry } from './trace.ts';
