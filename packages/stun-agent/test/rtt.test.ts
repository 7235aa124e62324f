import { describe, expect, it } from 'vitest';
import { RtoCache } from '../src/rto-cache.ts';
import { RttEstimator } from '../src/rtt.ts';

describe('RttEstimator (RFC 6298)', () => {
  it('starts at the initial RTO', () => {
    expect(new RttEstimator().rto).toBe(500);
    expect(new RttEstimator({ initialRto: 800 }).rto).toBe(800);
  });

  it('first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR', () => {
    const e = new RttEstimator();
    expect(e.sample(300)).toBe(900);
    expect(e.srtt).toBe(300);
    expect(e.rttvar).toBe(150);
  });

  it('later samples update RTTVAR with the old SRTT, then SRTT (α = 1/8, β = 1/4)', () => {
    const e = new RttEstimator();
    e.sample(400);
    e.sample(200);
    // RTTVAR = 3/4·200 + 1/4·|400 − 200| = 200; SRTT = 7/8·400 + 1/8·200 = 375
    expect(e.rttvar).toBe(200);
    expect(e.srtt).toBe(375);
    expect(e.rto).toBe(375 + 800);
  });

  it('clamps to [minRto, maxRto] and uses G when K·RTTVAR would be 0', () => {
    const e = new RttEstimator({ minRto: 10, maxRto: 1000, granularity: 7 });
    expect(e.sample(0)).toBe(10);
    const f = new RttEstimator({ minRto: 1, granularity: 7 });
    f.sample(100);
    for (let i = 0; i < 200; i++) f.sample(100);
    expect(f.rto).toBeCloseTo(107, 0);
    expect(new RttEstimator({ maxRto: 1000 }).sample(5000)).toBe(1000);
    expect(new RttEstimator().sample(10)).toBe(500);
  });

  it('retains a backed-off RTO (Karn) until a sample collapses it', () => {
    const e = new RttEstimator({ maxRto: 3000 });
    e.retainBackoff(2000);
    expect(e.rto).toBe(2000);
    e.retainBackoff(64000);
    expect(e.rto).toBe(3000);
    expect(e.sample(100)).toBe(500);
  });

  it('rejects nonsense options', () => {
    expect(() => new RttEstimator({ minRto: 0 })).toThrow(RangeError);
    expect(() => new RttEstimator({ minRto: 600, maxRto: 500 })).toThrow(RangeError);
  });
});

describe('RtoCache', () => {
  it('remembers the RTO per destination', () => {
    const c = new RtoCache();
    expect(c.rto('a', 0)).toBe(500);
    c.sample('a', 300, 10);
    expect(c.rto('a', 20)).toBe(900);
    expect(c.rto('b', 20)).toBe(500);
  });

  it('forgets a destination after 10 minutes idle, not before', () => {
    const c = new RtoCache();
    c.sample('a', 300, 0);
    expect(c.rto('a', 599_999)).toBe(900); // a use refreshes the idle clock
    expect(c.rto('a', 599_999 + 599_999)).toBe(900);
    expect(c.rto('a', 599_999 + 599_999 + 600_000)).toBe(500);
    expect(c.get('a', 2_000_000)).toBeUndefined();
  });

  it('sweeps idle entries so memory stays bounded', () => {
    const c = new RtoCache({ ttl: 1000 });
    for (let i = 0; i < 100; i++) c.sample(`d${i}`, 100, i);
    expect(c.size).toBe(100);
    c.sample('late', 100, 5000);
    expect(c.size).toBe(1);
    c.sweep(10_000);
    expect(c.size).toBe(0);
  });

  it('keeps a backed-off RTO per destination', () => {
    const c = new RtoCache();
    c.backoff('a', 1000, 0);
    expect(c.rto('a', 1)).toBe(1000);
  });
});
