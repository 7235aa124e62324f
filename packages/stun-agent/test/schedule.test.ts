import { describe, expect, it } from 'vitest';
import { checkPolicy, DEFAULT_POLICY, nextStep, retransmitSchedule } from '../src/schedule.ts';

describe('retransmission schedule (RFC 8489 §6.2.1)', () => {
  it('defaults: sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; failure at 39.5 s', () => {
    expect(retransmitSchedule(DEFAULT_POLICY, 500)).toEqual({
      sends: [0, 500, 1500, 3500, 7500, 15500, 31500],
      failAt: 39500,
    });
  });

  it('scales with a learned RTO', () => {
    expect(retransmitSchedule(DEFAULT_POLICY, 900)).toEqual({
      sends: [0, 900, 2700, 6300, 13500, 27900, 56700],
      failAt: 56700 + 16 * 900,
    });
  });

  it('reliable transports: one send, fail after Ti', () => {
    expect(retransmitSchedule({ ...DEFAULT_POLICY, transport: 'reliable' }, 500)).toEqual({
      sends: [0],
      failAt: 39500,
    });
  });

  it('Rc = 1 sends once and waits Rm × RTO', () => {
    expect(retransmitSchedule({ ...DEFAULT_POLICY, rc: 1 }, 500)).toEqual({ sends: [0], failAt: 8000 });
    expect(nextStep({ ...DEFAULT_POLICY, rc: 1 }, 500, 1)).toEqual({ action: 'fail', delay: 8000 });
  });

  it('rejects invalid policies', () => {
    expect(() => checkPolicy({ ...DEFAULT_POLICY, rc: 0 })).toThrow(RangeError);
    expect(() => checkPolicy({ ...DEFAULT_POLICY, rm: 0 })).toThrow(RangeError);
    expect(() => checkPolicy({ ...DEFAULT_POLICY, ti: -1 })).toThrow(RangeError);
  });
});
