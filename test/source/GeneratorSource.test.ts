import { describe, expect, it } from 'vitest';
import { GeneratorSource, type GeneratorSourceOptions } from '../../lib/source/GeneratorSource';

/** The records of batches 1..count, asked for in order as the engine would. */
async function batches<T>(
  source: { recordsFor(t: number, i: number): Promise<T[]> },
  count: number,
  intervalMs: number,
) {
  const result: T[][] = [];
  for (let batch = 1; batch <= count; batch++)
    result.push(await source.recordsFor(batch * intervalMs, intervalMs));
  return result;
}

describe('GeneratorSource', () => {
  describe('record counts', () => {
    it.each([
      { ratePerSec: 1000, intervalMs: 1000, expected: [1000, 1000, 1000] },
      { ratePerSec: 10, intervalMs: 500, expected: [5, 5, 5] },
      { ratePerSec: 3, intervalMs: 1000, expected: [3, 3, 3] },
      // 7/s in 300 ms batches is 2.1 per batch: the tenth batch collects the ten leftover tenths.
      { ratePerSec: 7, intervalMs: 300, expected: [2, 2, 2, 2, 2, 2, 2, 2, 2, 3] },
      // Less than one record per batch: 1 every 4 batches.
      { ratePerSec: 0.5, intervalMs: 500, expected: [0, 0, 0, 1, 0, 0, 0, 1] },
    ])(
      'makes $expected records at $ratePerSec/s in $intervalMs ms batches',
      async ({ ratePerSec, intervalMs, expected }) => {
        // given
        const source = new GeneratorSource({ kind: 'kv', ratePerSec });
        // when
        const sizes = (await batches(source, expected.length, intervalMs)).map((batch) => batch.length);
        // then
        expect(sizes).toEqual(expected);
      },
    );

    it('adds up to floor(rate × T / 1000) over many batches when the rate does not divide evenly', async () => {
      // given
      const ratePerSec = 333;
      const intervalMs = 700;
      const count = 23;
      const source = new GeneratorSource({ kind: 'lines', ratePerSec, lineBytes: 20 });
      // when
      const sizes = (await batches(source, count, intervalMs)).map((batch) => batch.length);
      // then
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(
        Math.floor((ratePerSec * count * intervalMs) / 1000),
      );
      expect(new Set(sizes)).toEqual(new Set([233, 234]));
    });

    it('numbers tweets with consecutive ids across batches', async () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 30 });
      // when
      const ids = (await batches(source, 3, 100)).flat().map((tweet) => tweet.id);
      // then
      expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it('stamps kv records with a time inside their own batch', async () => {
      // given
      const intervalMs = 250;
      const source = new GeneratorSource({ kind: 'kv', ratePerSec: 37 });
      // when
      const result = await batches(source, 8, intervalMs);
      // then
      result.forEach((batch, i) => {
        const batchTime = (i + 1) * intervalMs;
        for (const record of batch) {
          expect(record.ts).toBeGreaterThan(batchTime - intervalMs);
          expect(record.ts).toBeLessThanOrEqual(batchTime);
        }
      });
    });
  });

  describe('determinism', () => {
    const kinds: GeneratorSourceOptions[] = [
      { kind: 'tweets', ratePerSec: 200 },
      { kind: 'lines', ratePerSec: 200 },
      { kind: 'kv', ratePerSec: 200 },
    ];

    it.each(kinds)('gives identical $kind batches for the same seed', async (options) => {
      // given
      const one = new GeneratorSource({ ...options, seed: 42 });
      const other = new GeneratorSource({ ...options, seed: 42 });
      // when
      const fromOne = await batches(one, 3, 1000);
      const fromOther = await batches(other, 3, 1000);
      // then
      expect(fromOther).toEqual(fromOne);
      expect(one.replayable).toBe(true);
    });

    it.each(kinds)('gives different $kind batches for a different seed', async (options) => {
      // given
      const one = new GeneratorSource({ ...options, seed: 1 });
      const other = new GeneratorSource({ ...options, seed: 2 });
      // when
      const fromOne = await one.recordsFor(1000, 1000);
      const fromOther = await other.recordsFor(1000, 1000);
      // then
      expect(fromOther).toHaveLength(fromOne.length);
      expect(fromOther).not.toEqual(fromOne);
    });

    it.each(kinds)('regenerates $kind batch 5 alone exactly as a sequential run made it', async (options) => {
      // given
      const sequential = await batches(new GeneratorSource(options), 7, 1000);
      const fresh = new GeneratorSource(options);
      // when
      const batch5 = await fresh.recordsFor(5000, 1000);
      // then
      expect(batch5).toHaveLength(200);
      expect(batch5).toEqual(sequential[4]);
    });

    it('gives the same record for an index whichever batch it is asked in', async () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 100 });
      // when
      const inBigBatch = await source.recordsFor(1000, 1000);
      const inSmallBatch = await source.recordsFor(500, 100);
      // then
      expect(inSmallBatch).toEqual(inBigBatch.slice(40, 50));
      expect(source.recordAt(45)).toEqual(inBigBatch[45]);
    });
  });

  describe('a pool of records', () => {
    it.each(['lines', 'tweets', 'kv'] as const)(
      'gives %s record i as record i mod poolRecords of the same generator without a pool',
      async (kind) => {
        // given
        const made = new GeneratorSource({ kind, ratePerSec: 1000, seed: 3 });
        const pooled = new GeneratorSource({ kind, ratePerSec: 1000, seed: 3, poolRecords: 7 });
        // when
        const batch = await pooled.recordsFor(2000, 1000);
        // then
        expect(batch).toHaveLength(1000);
        expect(batch).toEqual(batch.map((_, i) => made.recordAt((1000 + i) % 7)));
        expect(pooled.recordAt(7 * 1000 + 3)).toEqual(made.recordAt(3));
      },
    );

    it('makes its pool once, on first use, and hands out the same records after', () => {
      // given
      const source = new GeneratorSource({ kind: 'lines', ratePerSec: 10, poolRecords: 4 });
      // when
      const first = source.recordAt(1);
      const again = source.recordAt(5);
      // then the same string, not an equal one made again
      expect(again).toBe(first);
      expect(source.description).toBe('generator(lines, 10/s, seed 1, a pool of 4)');
    });

    it('refuses a pool that is not a positive whole number', () => {
      // given
      const bad = { kind: 'lines', ratePerSec: 10, poolRecords: -3 } as const;
      // when
      const build = () => new GeneratorSource(bad);
      // then
      expect(build).toThrow('poolRecords must be a positive integer, got -3');
    });

    it.each([undefined, 5])(
      'is rebuilt in a task from its directSpec, with poolRecords %s',
      (poolRecords) => {
        // given the generator a job built, and the one a task rebuilds from the plan's JSON
        const built = new GeneratorSource({ kind: 'tweets', ratePerSec: 10, seed: 2, poolRecords });
        const options = JSON.parse(JSON.stringify(built.directSpec.options)) as GeneratorSourceOptions;
        // when
        const rebuilt = new GeneratorSource(options);
        // then it makes the same records
        expect([0, 1, 6, 12].map((i) => rebuilt.recordAt(i))).toEqual(
          [0, 1, 6, 12].map((i) => built.recordAt(i)),
        );
      },
    );
  });

  describe('lines', () => {
    it.each([1, 2, 7, 10, 11, 23, 24, 100, 1000])(
      'are exactly %i ASCII bytes of lowercase words and single spaces',
      async (lineBytes) => {
        // given
        const source = new GeneratorSource({ kind: 'lines', ratePerSec: 500, lineBytes, seed: lineBytes });
        // when
        const lines = await source.recordsFor(1000, 1000);
        // then
        expect(lines).toHaveLength(500);
        for (const line of lines) {
          expect(Buffer.byteLength(line)).toBe(lineBytes);
          expect(line).toMatch(/^[a-z]+( [a-z]+)*$/);
        }
      },
    );

    it('defaults to 100 bytes and varies from line to line', async () => {
      // given
      const source = new GeneratorSource({ kind: 'lines', ratePerSec: 1000 });
      // when
      const lines = await source.recordsFor(1000, 1000);
      // then
      expect(lines.every((line) => line.length === 100)).toBe(true);
      expect(new Set(lines).size).toBeGreaterThan(990);
    });

    it('have a skewed word distribution, so word counts are interesting', async () => {
      // given
      const source = new GeneratorSource({ kind: 'lines', ratePerSec: 2000 });
      // when
      const counts = new Map<string, number>();
      for (const line of await source.recordsFor(1000, 1000)) {
        for (const word of line.split(' ')) counts.set(word, (counts.get(word) ?? 0) + 1);
      }
      // then
      const sorted = [...counts.values()].sort((a, b) => b - a);
      expect(counts.size).toBeGreaterThan(100);
      expect(sorted[0]).toBeGreaterThan(10 * (sorted[50] ?? 0));
    });
  });

  describe('tweets', () => {
    it('carry hashtags from the pool, with a few tags far more frequent than the rest', async () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 5000, hashtags: 50 });
      // when
      const tweets = await source.recordsFor(1000, 1000);
      const tags = tweets.flatMap((tweet) => tweet.text.split(' ').filter((word) => word.startsWith('#')));
      // then
      const counts = new Map<string, number>();
      for (const tag of tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
      const sorted = [...counts.values()].sort((a, b) => b - a);
      expect(tags.length).toBeGreaterThan(tweets.length / 2);
      expect(tags.every((tag) => /^#[a-z0-9]+$/.test(tag))).toBe(true);
      expect(counts.size).toBeLessThanOrEqual(50);
      expect(counts.get('#spark')).toBe(sorted[0]);
      expect(sorted[0]).toBeGreaterThan(5 * (sorted[sorted.length - 1] ?? 0));
    });

    it('have at most three hashtags and a few plain words first', async () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 1000 });
      // when
      const tweets = await source.recordsFor(1000, 1000);
      // then
      for (const tweet of tweets) {
        const words = tweet.text.split(' ');
        const tags = words.filter((word) => word.startsWith('#'));
        expect(tags.length).toBeLessThanOrEqual(3);
        expect(words.length - tags.length).toBeGreaterThanOrEqual(3);
        expect(typeof tweet.lang).toBe('string');
      }
    });

    it('come from user1..userN plus about one in twenty from spammer1..spammer5', async () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 4000, users: 10 });
      // when
      const users = (await source.recordsFor(1000, 1000)).map((tweet) => tweet.user);
      // then
      const spam = users.filter((user) => user.startsWith('spammer'));
      expect(new Set(users.filter((user) => !user.startsWith('spammer')))).toEqual(
        new Set(Array.from({ length: 10 }, (_, i) => `user${i + 1}`)),
      );
      expect(new Set(spam)).toEqual(new Set(['spammer1', 'spammer2', 'spammer3', 'spammer4', 'spammer5']));
      expect(spam.length).toBeGreaterThan(4000 / 20 / 2);
      expect(spam.length).toBeLessThan((4000 / 20) * 2);
    });
  });

  describe('kv', () => {
    it('uses keys k1..kN and small integer values', async () => {
      // given
      const source = new GeneratorSource({ kind: 'kv', ratePerSec: 2000, keys: 5 });
      // when
      const records = await source.recordsFor(1000, 1000);
      // then
      expect(new Set(records.map((record) => record.key))).toEqual(new Set(['k1', 'k2', 'k3', 'k4', 'k5']));
      for (const record of records) {
        expect(Number.isInteger(record.value)).toBe(true);
        expect(record.value).toBeGreaterThanOrEqual(1);
        expect(record.value).toBeLessThanOrEqual(10);
      }
    });
  });

  describe('options', () => {
    it.each([
      [{ kind: 'lines', ratePerSec: -5 }, 'ratePerSec must be a positive number, got -5'],
      [{ kind: 'lines', ratePerSec: 0 }, 'ratePerSec must be a positive number, got 0'],
      [{ kind: 'lines', ratePerSec: Number.NaN }, 'ratePerSec must be a positive number, got NaN'],
      [
        { kind: 'lines', ratePerSec: Number.POSITIVE_INFINITY },
        'ratePerSec must be a positive number, got Infinity',
      ],
      [{ kind: 'lines', ratePerSec: '10' }, 'ratePerSec must be a positive number, got "10"'],
      [{ kind: 'logs', ratePerSec: 10 }, `kind must be 'tweets', 'lines' or 'kv', got "logs"`],
      [{ kind: 'lines', ratePerSec: 10, seed: 1.5 }, 'seed must be an integer, got 1.5'],
      [{ kind: 'lines', ratePerSec: 10, lineBytes: 0 }, 'lineBytes must be a positive integer, got 0'],
      [{ kind: 'tweets', ratePerSec: 10, users: 2.5 }, 'users must be a positive integer, got 2.5'],
      [{ kind: 'tweets', ratePerSec: 10, hashtags: -1 }, 'hashtags must be a positive integer, got -1'],
      [{ kind: 'kv', ratePerSec: 10, keys: 0 }, 'keys must be a positive integer, got 0'],
    ])('rejects %j with a message naming the value', (options, message) => {
      // given
      const bad = options as unknown as GeneratorSourceOptions;
      // when
      const build = () => new GeneratorSource(bad);
      // then
      expect(build).toThrow(message);
    });

    it('describes itself with its kind, rate and seed', () => {
      // given
      const source = new GeneratorSource({ kind: 'tweets', ratePerSec: 250, seed: 7 });
      // when
      const { description } = source;
      // then
      expect(description).toBe('generator(tweets, 250/s, seed 7)');
    });
  });
});
