import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobValidationError } from '../../lib/errors';
import { validateJob } from '../../lib/job/validateJob';
import { runBatches } from '../../lib/local/LocalRuntime';
import { localJobIssues } from '../../lib/local/localJobChecks';
import { fixturesDir, seedJob } from './fixtures/jobs';

/** A small seeded generator (mulberry32), so every run sees the same mutants. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Doc = Record<string, any>; // any: mutations reach into any field of the document

/** Deeply nested arrays around `leaf`, built without recursion. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const HUGE = [1e21, 1e9, 2 ** 53, -1, 0, 1.5, Number.MAX_VALUE, 1e308];
const HOSTILE_JSONATA = [
  '($f := function($x){ $x + $f($x) }; $f(1))',
  '($f := function($x){ $f($x) }; $f(1))',
  '$sort([1..1000000])',
  '$match($string($), /(a|ab)*c/i)',
  '$match($string($), /(a+)+\\1/)',
  '$eval("$match(\\"aaaa\\", /(a+)+\\\\1/)")',
  `${'('.repeat(3000)}1${')'.repeat(3000)}`,
  '[1..10000000]',
  '$pad("", 1000000000)',
  '$length($pad($, 140000000))',
  '$fromMillis(0, "[Y١,200000000]")',
  '$pad("a", 50000000, "abc")',
  'function($x){ $x }',
];
const OUTSIDE_PATHS = ['../escape.jsonl', '/tmp/escape.jsonl', 'a/../../b', '..', 'C:\\\\x'];
const SPECIAL_MODULES = ['/dev/zero', '/etc/hostname', '/dev/stdin', '/', '../../../etc/passwd.js'];

/** The mutation kinds of the issue: each takes a fresh copy of the seed job and breaks one thing. */
const MUTATIONS: Record<string, (doc: Doc, pick: <T>(list: readonly T[]) => T) => void> = {
  hugeNumber: (doc, pick) => {
    const field = pick([
      () => (doc.defaultPartitions = pick(HUGE)),
      () => (doc.batchIntervalMs = pick(HUGE)),
      () => (doc.sources.tweets.seed = pick(HUGE)),
      () => (doc.sources.tweets.hashtags = pick(HUGE)),
      () => (doc.sources.tweets.ratePerSec = pick(HUGE)),
      () => (doc.sources.q.partitions = pick(HUGE)),
      () => (doc.streams.counts.ops[0].partitions = pick(HUGE)),
      () => (doc.outputs[0].num = pick(HUGE)),
      () => (doc.streams.counts.ops = [{ op: 'window', windowMs: pick(HUGE) }]),
      () => (doc.expressionBudget = { timeMs: pick(HUGE), depth: pick(HUGE), items: pick(HUGE) }),
    ]);
    field();
  },
  longList: (doc, pick) => {
    const n = pick([1001, 5000, 20_000]);
    pick([
      () => (doc.streams.counts.ops = Array.from({ length: n }, () => ({ op: 'count' }))),
      () => (doc.outputs = Array.from({ length: n }, () => ({ stream: 'counts', type: 'print' }))),
      () => (doc.streams.others.ops[0].with = Array.from({ length: n }, () => 'files')),
      () => {
        for (let i = 0; i < n; i++)
          doc.streams[`s${i}`] = { from: i ? `s${i - 1}` : 'tweets', ops: [{ op: 'count' }] };
      },
      () => {
        for (let i = 0; i < n; i++) doc.outputs.push({ stream: `unknown${i}`, type: 'print' });
      },
    ])();
  },
  deepNesting: (doc, pick) => {
    const deep = nested(pick([101, 5000, 50_000]), 'x');
    pick([
      () => (doc.sources.q.batches = [[deep]]),
      () => (doc.streams.clean.ops[0].args = { field: deep }),
      () => (doc.datasets.spam = { type: 'parallelize', records: [deep] }),
      () => (doc.description = deep),
    ])();
  },
  hostileJsonata: (doc, pick) => {
    const expr = pick(HOSTILE_JSONATA);
    pick([
      () => (doc.streams.clean.ops[2].expr = expr),
      () => doc.streams.tags.ops.push({ op: 'map', expr }),
    ])();
  },
  pathOutside: (doc, pick) => {
    const path = pick(OUTSIDE_PATHS);
    pick([
      () => doc.outputs.push({ stream: 'counts', type: 'jsonl', path }),
      () => (doc.outputs[2].prefix = path),
    ])();
  },
  specialModule: (doc, pick) => {
    doc.functions = pick(SPECIAL_MODULES);
  },
  // The kinds of the reliability issue: any field of the document, broken in the ways a hand-edited file is.
  wrongType: (doc, pick) => {
    const [parent, key] = pick(fieldsOf(doc));
    parent[key] = pick(WRONG_VALUES);
  },
  missingField: (doc, pick) => {
    const [parent, key] = pick(fieldsOf(doc));
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  },
  unknownReference: (doc, pick) => {
    pick([
      () => (doc.streams.counts.ops[0].op = pick(['reduceByKeyy', 'flatmap', '', 'eval', '__proto__'])),
      () => (doc.streams.counts.from = pick(['nope', 'counts', '', 'constructor'])),
      () => (doc.outputs[0].stream = pick(['nope', '', 'toString'])),
      () => (doc.streams.others.ops[0].with = [pick(['nope', 'hasOwnProperty'])]),
      () => (doc.outputs[0].type = pick(['printt', 'jsonl2', 'eval'])),
      () => (doc.sources.q.type = pick(['kafka', 'sockets', 'valueOf'])),
    ])();
  },
  cycle: (doc, pick) => {
    const a = pick(Object.keys(doc.streams));
    const b = pick(Object.keys(doc.streams));
    doc.streams[a].from = b;
    doc.streams[b].from = a;
  },
  prototypeKeys: (doc, pick) => {
    const key = pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
    // JSON.parse makes `__proto__` an own key, as a document read from a file has it.
    const own = (value: unknown) => JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`);
    pick([
      () => Object.assign(doc.streams, own({ from: 'tweets', ops: [{ op: 'count' }] })),
      () => Object.assign(doc.sources, own({ type: 'queue', batches: [['a']] })),
      () => Object.assign(doc, own({ polluted: true })),
      () => Object.assign(doc.streams.counts.ops[0], own('x')),
      () => doc.outputs.push({ stream: key, type: 'print' }),
      () => doc.outputs.push({ stream: 'counts', type: 'jsonl', path: key }),
    ])();
  },
  brokenJsonata: (doc, pick) => {
    const expr = pick(BROKEN_JSONATA);
    pick([
      () => (doc.streams.clean.ops[2].expr = expr),
      () => doc.streams.tags.ops.push({ op: 'filter', expr }),
    ])();
  },
};

const WRONG_VALUES: readonly unknown[] = [
  'x',
  '',
  -1,
  0,
  1.5,
  true,
  null,
  [],
  {},
  [1, 'a'],
  { op: 1 },
  Number.NaN,
];
const BROKEN_JSONATA = [
  '$$$(',
  'a +',
  '[1,2',
  '{"a":',
  'function(',
  '$foo(',
  ')',
  '$match(/(/)',
  '"unclosed',
  '~>',
];

/** Every field of the document as [parent, key], arrays' items included: what wrongType and missingField break. */
function fieldsOf(doc: Doc): Array<[any, string]> {
  const fields: Array<[any, string]> = [];
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      fields.push([value, key]);
      stack.push((value as Record<string, unknown>)[key]);
    }
  }
  return fields;
}

/** What one mutant came to: a clean run of validation, or a rejection. */
type Outcome = 'accepted' | 'rejected';

/** Validates a mutant as `sluice validate` does, minus the import: the local checks and the document's. */
function check(doc: Doc): { outcome: Outcome; issues: readonly { path: string; message: string }[] } {
  const issues = [...localJobIssues(doc, fixturesDir)];
  try {
    validateJob(doc);
  } catch (error) {
    // Anything but a JobValidationError (a RangeError, a TypeError, an out-of-memory) fails the test here.
    if (!(error instanceof JobValidationError)) throw error;
    expect(error.message.length).toBeLessThan(64 * 1024);
    issues.push(...error.issues);
  }
  return { outcome: issues.length === 0 ? 'accepted' : 'rejected', issues };
}

/** The example job, with its folder source watching a folder that exists. */
function baseJob(): Doc {
  const doc = seedJob() as Doc;
  doc.sources.files.directory = '.';
  return doc;
}

describe('hostile job documents end as a clean rejection with a JSON path, or a clean run', () => {
  it('validates 1,200 seeded mutants of the example job, one per mutation kind in turn', () => {
    // given 1,200 mutants, 100 of each kind
    const next = random(16);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const counts: Record<string, Record<Outcome, number>> = {};
    const kinds = Object.keys(MUTATIONS);
    for (let i = 0; i < 1200; i++) {
      const kind = kinds[i % kinds.length] as string;
      const doc = baseJob();
      MUTATIONS[kind]?.(doc, pick);
      // when each is checked
      const { outcome, issues } = check(doc);
      // then it is accepted, or every issue has a path (the root only for the "more problems" line) and a sentence
      for (const issue of issues) {
        expect(typeof issue.path).toBe('string');
        expect(issue.message.length).toBeGreaterThan(0);
      }
      expect(issues.filter((issue) => issue.path !== '').length > 0 || outcome === 'accepted').toBe(true);
      counts[kind] ??= { accepted: 0, rejected: 0 };
      (counts[kind] as Record<Outcome, number>)[outcome]++;
    }
    // and the kinds that can never be valid are never accepted
    for (const kind of [
      'longList',
      'deepNesting',
      'pathOutside',
      'specialModule',
      'cycle',
      'brokenJsonata',
    ]) {
      expect(counts[kind]?.accepted, kind).toBe(0);
    }
    console.log('document fuzz outcomes by mutation kind:', JSON.stringify(counts));
  });

  it('runs a sample of the accepted mutants one batch each: they run, or fail with a sentence, never a crash', async () => {
    // given up to 12 accepted mutants of the kinds that break any field, with the seed job's socket source dropped
    // (a mutant must not wait on a server) and its folder source watching a folder that exists
    const next = random(12);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const sample: Array<{ kind: string; doc: Doc }> = [];
    for (let i = 0; i < 600 && sample.length < 12; i++) {
      const kind = pick(['wrongType', 'missingField', 'prototypeKeys', 'hugeNumber']);
      const doc = baseJob();
      delete doc.sources.sock;
      doc.streams.others.ops[0].with = ['files'];
      MUTATIONS[kind]?.(doc, pick);
      if (check(doc).outcome === 'accepted') sample.push({ kind, doc });
    }
    expect(sample.length).toBeGreaterThan(5);
    const outputDir = await mkdtemp(join(tmpdir(), 'sluice-fuzz-'));
    for (const { kind, doc } of sample) {
      // when it runs one batch, its outputs in a folder of its own (a mutant may name any output path)
      const result = await runBatches({ kind: 'document', document: doc, baseDir: fixturesDir }, 1, {
        outputDir,
      }).catch((error: unknown) => ({ error: error as Error }));
      // then it ran, or its error is one of Sluice's sentences, not a TypeError or RangeError from deep inside
      const error = result.error;
      expect(
        error === undefined || !['TypeError', 'RangeError', 'ReferenceError'].includes(error.name),
        `${kind}: ${error?.stack}`,
      ).toBe(true);
    }
    await rm(outputDir, { recursive: true, force: true });
  });

  it('runs the hostile expressions validation accepts as dead letters, not a hung or failed batch', async () => {
    // given every hostile expression that validation lets through, each mapping one record
    const accepted = HOSTILE_JSONATA.filter((expr) => {
      try {
        validateJob({
          name: 'probe',
          batchIntervalMs: 1000,
          sources: { q: { type: 'queue', batches: [['aaaa']] } },
          streams: { s: { from: 'q', ops: [{ op: 'map', expr }] } },
          outputs: [{ stream: 's', type: 'print' }],
        });
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted.length).toBeGreaterThan(3);
    for (const expr of accepted) {
      const document = {
        name: 'hostile',
        batchIntervalMs: 1000,
        expressionBudget: { timeMs: 100, depth: 100, items: 1000 },
        sources: { q: { type: 'queue', batches: [['aaaa']] } },
        streams: { s: { from: 'q', ops: [{ op: 'map', expr }] } },
        outputs: [{ stream: 's', type: 'collectBatches' }],
      };
      // when it runs one batch
      const result = await runBatches({ kind: 'document', document, baseDir: fixturesDir }, 1);
      // then the batch completes, and the record is either mapped or a dead letter with a reason
      expect(result.error, expr).toBeUndefined();
      expect(result.recordsOf('s')[0]?.length ?? 0).toBe(1 - result.deadLetters.length);
    }
  });
});
