export { addressKey, canonicalIp, sameAddress } from './address.ts';
export {
  BindingDiscovery,
  type BindingDiscoveryEvent,
  type BindingDiscoveryOptions,
} from './binding-discovery.ts';
export { StunClient, transactionIdHex } from './client.ts';
export type {
  ClientInputVerdict,
  ExtraAttribute,
  FailureReason,
  RequestOptions,
  StunClientEvent,
  StunClientOptions,
  StunClientStats,
  TransactionInfo,
} from './client-types.ts';
export type { Credentials } from './credentials.ts';
export { NonceIssuer, type NonceVerdict } from './nonce.ts';
export { OutstandingLimiter } from './outstanding.ts';
export { defaultRandom } from './random.ts';
export { RtoCache } from './rto-cache.ts';
export { RttEstimator, type RttOptions } from './rtt.ts';
export {
  checkPolicy,
  DEFAULT_POLICY,
  type NextStep,
  nextStep,
  type RetransmitPolicy,
  retransmitSchedule,
} from './schedule.ts';
export {
  type LongTermServerAuth,
  type ServerVerdict,
  type ShortTermServerAuth,
  StunServer,
  type StunServerOptions,
  type StunServerStats,
} from './server.ts';
export { type Timer, TimerQueue } from './timer-queue.ts';
