import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/index.ts';

describe('Fifo', () => {
  it('hands items back in order, peeks without taking, and is reusable after draining', () => {
    const q = new Fifo<number>();
    expect(q.shift()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.peek()).toBe(1);
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(1);
    q.push(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([2, 3, undefined]);
    expect(q.size).toBe(0);
    q.push(4);
    expect(q.peek()).toBe(4);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  test.prop([
    fc.array(fc.oneof(fc.integer(), fc.constant('shift' as const), fc.constant('clear' as const)), {
      maxLength: 10_000,
    }),
  ])('behaves like an array used as a queue, through bursts past the kept capacity', (ops) => {
    const q = new Fifo<number>();
    const ref: number[] = [];
    for (const op of ops) {
      if (op === 'shift') expect(q.shift()).toBe(ref.shift());
      else if (op === 'clear') {
        q.clear();
        ref.length = 0;
      } else {
        q.push(op);
        ref.push(op);
      }
      expect(q.size).toBe(ref.length);
      expect(q.peek()).toBe(ref[0]);
    }
  });

  it('survives a burst larger than the capacity it keeps', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 10_000; i++) q.push(i);
    for (let i = 0; i < 10_000; i++) expect(q.shift()).toBe(i);
    q.push(7);
    expect(q.shift()).toBe(7);
  });
});
