import { fc, test as fcTest } from '@fast-check/vitest';
import { type DeadlineEntry, DeadlineHeap } from '@natkit/sans-io';
import { describe, expect, it } from 'vitest';

describe('DeadlineHeap', () => {
  fcTest.prop([
    fc.array(
      fc.tuple(fc.nat(19), fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined }), fc.boolean()),
      { maxLength: 200 },
    ),
  ])('matches a model under any sequence of set/remove', (ops) => {
    const heap = new DeadlineHeap<DeadlineEntry & { id: number }>();
    const entries = Array.from({ length: 20 }, (_, id) => ({ id, deadline: 0, heapIndex: -1 }));
    const model = new Map<number, number>();
    for (const [i, d, rm] of ops) {
      const e = entries[i]!;
      if (rm) {
        heap.remove(e);
        model.delete(i);
      } else {
        heap.set(e, d);
        if (d === undefined) model.delete(i);
        else model.set(i, d);
      }
      expect(heap.size).toBe(model.size);
      const min = model.size === 0 ? undefined : Math.min(...model.values());
      expect(heap.peek()?.deadline).toBe(min);
    }
  });
});

describe('DeadlineHeap basics', () => {
  it('pops in deadline order and forgets removed entries', () => {
    const heap = new DeadlineHeap<DeadlineEntry & { id: string }>();
    const a = { id: 'a', deadline: 0, heapIndex: -1 };
    const b = { id: 'b', deadline: 0, heapIndex: -1 };
    const c = { id: 'c', deadline: 0, heapIndex: -1 };
    heap.set(a, 30);
    heap.set(b, 10);
    heap.set(c, 20);
    expect(heap.peek()?.id).toBe('b');
    heap.set(b, 40); // moved later
    expect(heap.peek()?.id).toBe('c');
    heap.remove(c);
    expect(c.heapIndex).toBe(-1);
    expect(heap.peek()?.id).toBe('a');
    heap.set(a, undefined);
    expect(heap.size).toBe(1);
    expect(heap.peek()?.id).toBe('b');
  });
});
