import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { OutstandingLimiter } from '../src/outstanding.ts';
import { TimerQueue } from '../src/timer-queue.ts';

describe('TimerQueue', () => {
  it('fires in time order, ties in arming order, skipping cancelled timers', () => {
    const q = new TimerQueue<string>();
    q.arm(30, 'c');
    q.arm(10, 'a');
    const x = q.arm(20, 'x');
    q.arm(10, 'b');
    x.cancelled = true;
    expect(q.next()).toBe(10);
    const fired: string[] = [];
    for (let t = q.popDue(25); t; t = q.popDue(25)) fired.push(t.item);
    expect(fired).toEqual(['a', 'b']);
    expect(q.next()).toBe(30);
    expect(q.popDue(29)).toBeUndefined();
  });

  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 200 })])(
    'pops exactly the live timers, sorted',
    (specs) => {
      const q = new TimerQueue<number>();
      const live: [number, number][] = [];
      specs.forEach(([at, cancel], i) => {
        const t = q.arm(at, i);
        if (cancel) t.cancelled = true;
        else live.push([at, i]);
      });
      live.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const out: [number, number][] = [];
      for (let t = q.popDue(Infinity); t; t = q.popDue(Infinity)) out.push([t.at, t.item]);
      expect(out).toEqual(live);
      expect(q.next()).toBeUndefined();
    },
  );
});

describe('OutstandingLimiter', () => {
  it('admits max per destination and hands freed slots to waiters in order', () => {
    const l = new OutstandingLimiter<number>(2);
    expect(l.acquire('a', 1)).toBe(true);
    expect(l.acquire('a', 2)).toBe(true);
    expect(l.acquire('a', 3)).toBe(false);
    expect(l.acquire('a', 4)).toBe(false);
    expect(l.acquire('b', 5)).toBe(true);
    expect(l.waiting('a')).toBe(2);
    expect(l.dequeue('a', 3)).toBe(true);
    expect(l.release('a')).toBe(4);
    expect(l.active('a')).toBe(2);
    expect(l.release('a')).toBeUndefined();
    expect(l.release('a')).toBeUndefined();
    expect(l.active('a')).toBe(0);
  });

  it('rejects a nonsense limit', () => {
    expect(() => new OutstandingLimiter(0)).toThrow(RangeError);
  });
});
