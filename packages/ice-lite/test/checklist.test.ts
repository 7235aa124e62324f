import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Checklist } from '../src/checklist.ts';

describe('Checklist (RFC 8445 §6.1.2, RFC 8838 §12)', () => {
  test.prop([
    fc.array(fc.tuple(fc.nat(5), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n })), { maxLength: 150 }),
    fc.integer({ min: 1, max: 100 }),
  ])('stays sorted by priority and within the cap', (adds, cap) => {
    const c = new Checklist(cap);
    for (const [i, [f, prio]] of adds.entries()) c.add(i, i, `f${f}`, prio);
    expect(c.pairs.length).toBeLessThanOrEqual(cap);
    for (let i = 1; i < c.pairs.length; i++)
      expect(c.pairs[i - 1]!.priority >= c.pairs[i]!.priority).toBe(true);
  });

  it('first pair of a foundation is Waiting, later ones Frozen until it succeeds', () => {
    const c = new Checklist(100);
    const a = c.add(0, 0, 'x', 10n)!;
    const b = c.add(0, 1, 'x', 5n)!;
    expect([a.state, b.state]).toEqual(['waiting', 'frozen']);
    expect(c.nextOrdinary()).toBe(a);
    a.state = 'in-progress';
    expect(c.nextOrdinary()).toBeUndefined(); // b's foundation is busy
    a.state = 'succeeded';
    c.unfreeze('x');
    expect(b.state).toBe('waiting');
    expect(c.add(0, 2, 'x', 1n)!.state).toBe('waiting'); // trickled into a succeeded foundation
  });

  it('triggered queue: FIFO, once per pair, skipping pairs that no longer need a check', () => {
    const c = new Checklist(100);
    const a = c.add(0, 0, 'a', 3n)!;
    const b = c.add(0, 1, 'b', 2n)!;
    c.trigger(b);
    c.trigger(a);
    c.trigger(b);
    b.state = 'succeeded';
    expect(c.hasTriggered()).toBe(true);
    expect(c.nextTriggered()).toBe(a);
    expect(c.nextTriggered()).toBeUndefined();
  });
});
