import { expect, it } from 'vitest';
import { MissingBlockError } from '../../lib/errors';
import type { BlockStore } from '../../lib/storage/BlockStore';

/**
 * The {@link BlockStore} contract, as test cases any store must pass: call it inside a `describe` with a
 * factory of fresh, empty stores. LocalFolderStore and S3BlockStore both run it, so the engine sees the same
 * semantics in local mode and on AWS.
 *
 * @example
 * describe('LocalFolderStore', () => blockStoreContract(async () => new LocalFolderStore(await freshFolder())));
 */
export function blockStoreContract(makeStore: () => Promise<BlockStore>): void {
  it('given a string written, when it is read, then its UTF-8 bytes come back', async () => {
    const store = await makeStore();
    await store.put('in/1000/0', 'héllo, wörld');
    expect(hex(await store.get('in/1000/0'))).toBe(hex(new TextEncoder().encode('héllo, wörld')));
  });

  it('given every byte value written, when it is read, then the bytes are unchanged', async () => {
    const store = await makeStore();
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    await store.put('shuffle/0/map-3', bytes);
    expect(hex(await store.get('shuffle/0/map-3'))).toBe(hex(bytes));
  });

  it('given an empty block, when it is read, then it exists and has no bytes', async () => {
    const store = await makeStore();
    await store.put('state/empty', new Uint8Array(0));
    const got = await store.get('state/empty');
    expect(got).toBeDefined();
    expect(got?.length).toBe(0);
  });

  it('given no block, when it is read, then the result is undefined', async () => {
    const store = await makeStore();
    await store.put('in/1', 'x');
    expect(await store.get('in/2')).toBeUndefined();
    expect(await store.get('nothing/here')).toBeUndefined();
  });

  it('given a block, when it is rewritten shorter, then the whole value is replaced', async () => {
    const store = await makeStore();
    await store.put('checkpoint/latest', 'a much longer first value');
    await store.put('checkpoint/latest', 'short');
    expect(text(await store.get('checkpoint/latest'))).toBe('short');
  });

  it('given a block, when ranges are read, then each is bytes [start, end)', async () => {
    const store = await makeStore();
    await store.put('blob', '0123456789');
    expect(text(await store.getRange('blob', 0, 10))).toBe('0123456789');
    expect(text(await store.getRange('blob', 2, 5))).toBe('234');
    expect(text(await store.getRange('blob', 9, 10))).toBe('9');
    expect((await store.getRange('blob', 4, 4)).length).toBe(0);
  });

  it('given a block, when a range runs past its end or the block is missing, then the read fails', async () => {
    const store = await makeStore();
    await store.put('blob', '0123456789');
    await expect(store.getRange('blob', 8, 12)).rejects.toThrow();
    await expect(store.getRange('blob', 10, 11)).rejects.toThrow();
    await expect(store.getRange('missing', 0, 1)).rejects.toThrow();
  });

  it('given no block, when a range of it is read, then the read fails naming the block, in a sentence', async () => {
    // (a plan named the block, which the store held when planned: something else deleted it)
    const store = await makeStore();
    for (const [start, end] of [
      [0, 1],
      [0, 0],
    ] as const) {
      const read = store.getRange('input/n1/4000/block', start, end);
      await expect(read).rejects.toBeInstanceOf(MissingBlockError);
      await expect(read).rejects.toThrow(/^block input\/n1\/4000\/block is missing from the store/);
    }
  });

  it('given nested keys written out of order, when listed, then the keys under the prefix come sorted', async () => {
    const store = await makeStore();
    for (const key of ['in/2/b', 'in/10/a', 'in/1/z', 'in/1/a', 'out/0', 'inbox/x', 'k=1/part 0']) {
      await store.put(key, key);
    }
    expect(await store.list('in/')).toEqual(['in/1/a', 'in/1/z', 'in/10/a', 'in/2/b']);
    expect(await store.list('in/1')).toEqual(['in/1/a', 'in/1/z', 'in/10/a']);
    expect(await store.list('in')).toEqual(['in/1/a', 'in/1/z', 'in/10/a', 'in/2/b', 'inbox/x']);
    expect(await store.list('')).toEqual([
      'in/1/a',
      'in/1/z',
      'in/10/a',
      'in/2/b',
      'inbox/x',
      'k=1/part 0',
      'out/0',
    ]);
    expect(await store.list('in/1/a')).toEqual(['in/1/a']);
  });

  it('given no block under a prefix, when listed, then the list is empty', async () => {
    const store = await makeStore();
    expect(await store.list('')).toEqual([]);
    await store.put('in/1', 'x');
    expect(await store.list('out/')).toEqual([]);
    expect(await store.list('in/2')).toEqual([]);
  });

  it('given a folder prefix, when it is deleted, then only the keys inside it go', async () => {
    const store = await makeStore();
    for (const key of ['batch/1000/a', 'batch/1000/b/c', 'batch/10000/a', 'batch/2000/a'])
      await store.put(key, key);
    await store.deletePrefix('batch/1000/');
    expect(await store.list('')).toEqual(['batch/10000/a', 'batch/2000/a']);
    expect(await store.get('batch/1000/a')).toBeUndefined();
  });

  it('given a prefix that is not a folder, when it is deleted, then every key starting with it goes', async () => {
    const store = await makeStore();
    for (const key of ['batch/1000/a', 'batch/10000/a', 'batch/2000/a']) await store.put(key, key);
    await store.deletePrefix('batch/1000');
    expect(await store.list('')).toEqual(['batch/2000/a']);
  });

  it('given no block under a prefix, when it is deleted, then nothing fails and nothing else goes', async () => {
    const store = await makeStore();
    await store.put('keep/me', 'x');
    await store.deletePrefix('nothing/');
    await store.deletePrefix('nothing');
    expect(await store.list('')).toEqual(['keep/me']);
  });

  it('given a deleted block, when it is written again, then the new value is read', async () => {
    const store = await makeStore();
    await store.put('state/0', 'old');
    await store.deletePrefix('state/');
    await store.put('state/0', 'new');
    expect(text(await store.get('state/0'))).toBe('new');
  });
}

/** One step of {@link blockStoreScript}. */
export type BlockStoreOp =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'getRange'; readonly key: string; readonly start: number; readonly end: number }
  | { readonly op: 'list'; readonly prefix: string }
  | { readonly op: 'deletePrefix'; readonly prefix: string };

/**
 * A seeded sequence of `count` operations over a small set of keys and prefixes, for comparing two stores
 * step by step. No key is a folder of another key: a folder store cannot hold both `a` and `a/b`.
 */
export function blockStoreScript(seed: number, count: number): BlockStoreOp[] {
  const keys = ['in/1', 'in/2', 'in/10', 'sh/0/1', 'sh/0/2', 'sh/1/1', 'state/x', 'statex'];
  const prefixes = ['', 'in/', 'in/1', 'sh/', 'sh/0', 'sh/0/', 'state', 'nope/'];
  let x = seed >>> 0 || 1;
  const next = (n: number) => {
    // xorshift32: the same script on every machine.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const pick = <T>(list: readonly T[]): T => list[next(list.length)] as T;
  return Array.from({ length: count }, (_, i): BlockStoreOp => {
    const kind = next(10);
    if (kind < 4) return { op: 'put', key: pick(keys), value: `v${i}-${'x'.repeat(next(12))}` };
    if (kind < 6) return { op: 'get', key: pick(keys) };
    if (kind < 8) {
      const start = next(12);
      return { op: 'getRange', key: pick(keys), start, end: start + next(6) };
    }
    if (kind < 9) return { op: 'list', prefix: pick(prefixes) };
    return { op: 'deletePrefix', prefix: pick(prefixes) };
  });
}

/** Runs a script on a store; each step's observable result (bytes as text, `error` for a failure). */
export async function runBlockStoreScript(
  store: BlockStore,
  ops: readonly BlockStoreOp[],
): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const step of ops) {
    try {
      switch (step.op) {
        case 'put':
          await store.put(step.key, step.value);
          results.push('ok');
          break;
        case 'get':
          results.push(text(await store.get(step.key)) ?? null);
          break;
        case 'getRange':
          results.push(text(await store.getRange(step.key, step.start, step.end)));
          break;
        case 'list':
          results.push(await store.list(step.prefix));
          break;
        case 'deletePrefix':
          await store.deletePrefix(step.prefix);
          results.push('ok');
          break;
      }
    } catch {
      results.push('error');
    }
  }
  return results;
}

function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
