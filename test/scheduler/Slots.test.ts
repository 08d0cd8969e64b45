import { describe, expect, it } from 'vitest';
import { Slots } from '../../lib/scheduler/Slots';

/** Resolves after the microtasks queued so far (and those they queue) have run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Slots', () => {
  it('lets at most the limit through and wakes the waiters in arrival order', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const take = (name: string) => slots.acquire().then(() => order.push(name));
    void take('a');
    void take('b');
    void take('c');
    void take('d');
    await settle();
    expect(order).toEqual(['a', 'b']);
    slots.release();
    await settle();
    expect(order).toEqual(['a', 'b', 'c']);
    slots.release();
    slots.release();
    await settle();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('hands a released slot to the first waiter, not to a caller that arrives before it wakes', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    const order: string[] = [];
    const waiter = slots.acquire().then(() => order.push('waiter'));
    await settle();
    slots.release();
    const late = slots.acquire().then(() => order.push('late'));
    await settle();
    expect(order).toEqual(['waiter']);
    slots.release();
    await Promise.all([waiter, late]);
    expect(order).toEqual(['waiter', 'late']);
  });

  it('lets every waiter and later caller through once closed', async () => {
    const slots = new Slots(1);
    await slots.acquire();
    let through = 0;
    const waiters = [slots.acquire(), slots.acquire()].map((p) => p.then(() => through++));
    await settle();
    expect(through).toBe(0);
    slots.close();
    await Promise.all(waiters);
    await slots.acquire();
    expect(through).toBe(2);
  });
});
