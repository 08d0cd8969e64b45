import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskLocal } from '../../lib/scheduler/TaskLocal';

/** What `local` holds after some awaits and a timer, as deep in a task as a retry callback would be. */
async function seenDeep(local: TaskLocal<string>, ms: number): Promise<string | undefined> {
  await Promise.resolve();
  await sleep(ms);
  return new Promise((resolve) => setImmediate(() => resolve(local.get())));
}

describe('TaskLocal', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('finds the task of one invocation at a time without running an AsyncLocalStorage', async () => {
    // given tasks that run one after another, as Lambda runs invocations in a container
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    const local = new TaskLocal<string>();
    // when each looks for its value deep in its calls
    const seen = [
      await local.run('a', () => seenDeep(local, 5)),
      await local.run('b', () => seenDeep(local, 1)),
    ];
    // then each finds its own, nothing is found between them, and no storage ran
    expect(seen).toEqual(['a', 'b']);
    expect(local.get()).toBeUndefined();
    expect(run).not.toHaveBeenCalled();
  });

  it('finds each task’s own value when tasks overlap, as the development host runs them', async () => {
    // given a task that runs long, one that starts while it runs, and one that starts after the first ended
    const local = new TaskLocal<string>();
    const first = local.run('first', () => seenDeep(local, 40));
    const second = local.run('second', async () => [await seenDeep(local, 10), await seenDeep(local, 80)]);
    const firstSeen = await first;
    const third = local.run('third', () => seenDeep(local, 20));
    // when they all end, then each saw only itself, before and after the others started and ended
    expect(firstSeen).toBe('first');
    expect(await second).toEqual(['second', 'second']);
    expect(await third).toBe('third');
    expect(local.get()).toBeUndefined();
  });

  it('gives a failed task’s slot back', async () => {
    const local = new TaskLocal<string>();
    await expect(local.run('failed', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(local.get()).toBeUndefined();
    expect(await local.run('next', () => seenDeep(local, 1))).toBe('next');
  });
});
