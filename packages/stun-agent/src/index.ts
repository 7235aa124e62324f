export { addressKey, canonicalIp, sameAddress } from './address.ts';
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
export { type Timer, TimerQueue } from './timer-queue.ts';
