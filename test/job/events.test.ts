import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildJob } from '../../lib/job/buildJob';
import jobSchema from '../../lib/job/job.schema.json' with { type: 'json' };
import { validateJob } from '../../lib/job/validateJob';
import { runBatches } from '../../lib/local/LocalRuntime';

/** The folder of the ready-to-send jobs, which is also their `baseDir`. */
const eventsDir = new URL('../../events/', import.meta.url).pathname;

/** Every job document in `events/`: the JSON files that are jobs (control events have no `sources`). */
async function eventJobs(): Promise<{ file: string; document: Record<string, unknown> }[]> {
  const files = (await readdir(eventsDir)).filter((file) => file.endsWith('.json')).sort();
  const docs = await Promise.all(
    files.map(async (file) => ({
      file,
      document: JSON.parse(await readFile(join(eventsDir, file), 'utf8')) as Record<string, unknown>,
    })),
  );
  return docs.filter(({ document }) => 'sources' in document);
}

const jobs = await eventJobs();

describe('the jobs in events/', () => {
  it('include the main job and the examples', () => {
    // given the folder, when its jobs are listed, then the three examples are there
    expect(jobs.map((j) => j.file)).toEqual(
      expect.arrayContaining(['hashtag-counts.json', 'session-counts.json', 'spam-filter.json']),
    );
  });

  it('is the seed’s sliding hashtag count in the main job', () => {
    // given hashtag-counts.json, which `npm start` runs
    const main = jobs.find((j) => j.file === 'hashtag-counts.json')?.document as any;
    // when its stream is read, then it counts the hashtags of the last minute every second at 5000 tweets/s
    expect(main.sources.tweets).toMatchObject({ type: 'generator', kind: 'tweets', ratePerSec: 5000 });
    expect(main.streams.counts.ops).toEqual([
      { op: 'countByValueAndWindow', windowMs: 60000, slideMs: 1000 },
      { op: 'sortBy', expr: '$[1]', ascending: false },
    ]);
    expect(main.outputs).toEqual([{ stream: 'counts', type: 'print', num: 10 }]);
  });

  it.each(jobs)('$file matches the schema, links it, validates and builds', async ({ document }) => {
    // given the document as an editor sees it
    const validate = new Ajv({ allErrors: true, allowUnionTypes: true })
      .addKeyword('enumDescriptions')
      .compile(jobSchema);
    // when it is checked against the schema alone, then by validateJob, then built
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    expect(document.$schema).toBe('../lib/job/job.schema.json');
    expect(() => validateJob(document)).not.toThrow();
    const ssc = await buildJob(document, { baseDir: eventsDir });
    // then the graph has its outputs
    expect(ssc.graph.outputs.length).toBeGreaterThan(0);
  });

  it.each(jobs)(
    '$file runs 3 batches without an error',
    async ({ document }) => {
      // given the job as it is sent
      const source = { kind: 'document', document, baseDir: eventsDir } as const;
      // when it runs for 3 batches, then every batch completes
      const result = await runBatches(source, 3, { workers: 0 });
      expect(result.error).toBeUndefined();
      expect(result.batches).toHaveLength(3);
    },
    30_000,
  );

  it('spam-filter drops every tweet of the users in spam.txt', async () => {
    // given the spam filter, with its filtered tweets collected as well
    const spamFilter = jobs.find((j) => j.file === 'spam-filter.json')!.document as any;
    const document = {
      ...spamFilter,
      outputs: [...spamFilter.outputs, { stream: 'clean', type: 'collectBatches' }],
    };
    const spam = (await readFile(join(eventsDir, 'spam.txt'), 'utf8')).split('\n').filter(Boolean);
    // when it runs for 2 batches
    const result = await runBatches({ kind: 'document', document, baseDir: eventsDir }, 2, { workers: 0 });
    // then tweets remain, none by a listed user
    expect(spam).toEqual(['spammer1', 'spammer2', 'spammer3', 'spammer4', 'spammer5']);
    const users = result
      .recordsOf('clean')
      .flatMap((batch) => batch.map((t) => (t as { user: string }).user));
    expect(users.length).toBeGreaterThan(9000); // about 1 tweet in 20 is spam
    expect(users.filter((u) => spam.includes(u))).toEqual([]);
  }, 30_000);

  it('spam-filter gives the same batches with subtractByKey and built-in functions, without an expression', async () => {
    // given the spam filter, and the same job with its join, filter and map written as subtractByKey and value
    const spamFilter = jobs.find((j) => j.file === 'spam-filter.json')!.document as any;
    const collected = (doc: any) => ({
      ...doc,
      outputs: [
        { stream: 'clean', type: 'collectBatches', name: 'clean' },
        { stream: 'counts', type: 'collectBatches', name: 'counts' },
      ],
    });
    const subtracted = {
      ...spamFilter,
      datasets: { spam: { type: 'textFile', path: 'spam.txt', ops: [{ op: 'keyBy', fn: 'identity' }] } },
      streams: {
        ...spamFilter.streams,
        clean: {
          from: 'tweets',
          ops: [
            { op: 'keyBy', fn: 'field', args: { field: 'user' } },
            { op: 'subtractByKey', with: 'spam' },
            { op: 'map', fn: 'value' },
          ],
        },
      },
    };
    expect(JSON.stringify(subtracted)).not.toContain('expr');
    // when both run for 2 batches on worker threads
    const run = (doc: any) =>
      runBatches({ kind: 'document', document: collected(doc), baseDir: eventsDir }, 2, { workers: 2 });
    const [joined, subtractedRun] = await Promise.all([run(spamFilter), run(subtracted)]);
    // then they keep the same tweets, in the same order, and count the same hashtags
    expect(subtractedRun.error).toBeUndefined();
    expect(subtractedRun.recordsOf('clean')).toEqual(joined.recordsOf('clean'));
    expect(subtractedRun.recordsOf('counts')).toEqual(joined.recordsOf('counts'));
    expect(joined.recordsOf('clean').flat().length).toBeGreaterThan(9000);
  }, 60_000);
});
