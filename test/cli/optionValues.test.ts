import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../lib/local/cli';
import { parseBatchInterval, parseList, parsePartitions } from '../../lib/local/cli/optionParsers';

/**
 * Flag values out of their range are refused by the command line, exit code 2, naming the flag and the range:
 * `run --workers 100000` started a hundred thousand threads and never reached its first batch,
 * `lambda-host --port 70000` died on a RangeError's stack trace from `net.listen`, and `produce --rate 0` on the
 * generator's SluiceError, thrown uncaught.
 */

let stderr: string;
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('flag values out of range', () => {
  for (const [args, flag, expected] of [
    [
      ['run', 'job.json', '--workers', '100000'],
      "'--workers <n>' argument '100000'",
      'expected a whole number from 0 to 256 (a stage has at most 256 tasks',
    ],
    [
      ['run', 'job.json', '--batches', '1000000001'],
      "'--batches <n>' argument '1000000001'",
      'expected a whole number from 0 to 1000000000 (the batch to stop after; leave it out to run until Ctrl-C)',
    ],
    [
      ['tune', 'job.json', '--workers', '257'],
      "'--workers <n>' argument '257'",
      'expected a whole number from 0 to 256',
    ],
    [
      // every configuration of 0 partitions was reported invalid, after the search had spent its budget on them
      ['tune', 'job.json', '--partitions', '2,0'],
      "'--partitions <counts>' argument '2,0'",
      "expected a partition count from 1 to 256 (a job document's defaultPartitions",
    ],
    [
      ['tune', 'job.json', '--partitions', '257'],
      "'--partitions <counts>' argument '257'",
      'expected a partition count from 1 to 256',
    ],
    [
      ['tune', 'job.json', '--intervals', '1s,0ms'],
      "'--intervals <times>' argument '1s,0ms'",
      "expected a batch interval from 1ms to 1h (a job document's batchIntervalMs), got 0ms",
    ],
    [
      ['tune', 'job.json', '--intervals', '2h'],
      "'--intervals <times>' argument '2h'",
      'expected a batch interval from 1ms to 1h',
    ],
    [
      ['tune', 'job.json', '--max-trials', '0'],
      "'--max-trials <n>' argument '0'",
      'expected a whole number, 1 or more (with no real-clock trial, no configuration gets a rate), got 0',
    ],
    [
      ['tune', 'job.json', '--start-rate', '0'],
      "'--start-rate <n>' argument '0'",
      'expected a whole number, 1 or more',
    ],
    [
      ['tune', 'job.json', '--target-rate', '0'],
      "'--target-rate <n>' argument '0'",
      'expected a whole number, 1 or more',
    ],
    [
      // a search of no time still ran every configuration's estimate and trial, overrunning it
      ['tune', 'job.json', '--budget', '0'],
      "'--budget <time>' argument '0'",
      "expected a duration of 1ms or more (the whole search's time, shared by its configurations), got 0",
    ],
    [
      // a trial of no stream time ran its 3 batches all the same
      ['tune', 'job.json', '--trial', '0s'],
      "'--trial <time>' argument '0s'",
      'expected a duration of 1ms or more (the stream time of one real-clock trial, at least 3 batches), got 0s',
    ],
    [
      ['lambda-host', '--bucket', 'b', '--stream', 's', '--port', '70000'],
      "'--port <n>' argument '70000'",
      'expected a whole number from 0 to 65535 (0 picks a free one)',
    ],
    [
      ['produce', 'tweets', '--rate', '0'],
      "'--rate <n>' argument '0'",
      'expected a whole number from 1 to 1000000',
    ],
  ] as const) {
    it(`refuses ${args.join(' ')} naming the flag and the range`, async () => {
      // when the command is given the value, then it exits 2 before anything runs, with the flag and the range
      expect(await main(['node', 'sluice', ...args])).toBe(2);
      expect(stderr).toContain(`error: option ${flag} is invalid. ${expected}`);
    });
  }

  it('refuses a --metrics file it cannot append to before the run starts', async () => {
    // given a folder where the metrics file should be
    const folder = tmpdir();
    // when a run is asked to write its metrics there, then it exits 2 naming the flag, before the job is read,
    // where the run completed its first batch and then stopped on a bare EISDIR
    expect(await main(['node', 'sluice', 'run', 'no-such-job.json', '--metrics', folder])).toBe(2);
    expect(stderr).toContain(`--metrics ${folder}: cannot append to it: EISDIR`);
    // and says what to give instead
    expect(stderr).toContain('give --metrics the path of a file this user may write, such as metrics.jsonl');
    expect(stderr).not.toContain('no-such-job.json');
  });

  it('takes the bounds themselves', async () => {
    // given a job file that does not exist, so that a flag that parsed leads to the job's own refusal
    // when the bounds are given, then the flags parse and the command goes on to the job (exit 2 for its file)
    expect(await main(['node', 'sluice', 'run', 'no-such-job.json', '--workers', '256'])).toBe(2);
    expect(stderr).toContain('no-such-job.json does not exist');
    expect(stderr).not.toContain('is invalid');
  });
});

describe('list flags', () => {
  it('keep a value given twice once, where it first appears', () => {
    // when tune's lists repeat a value, in the same words or others, then each value is tried once
    // (`--partitions 2,2` ran every trial of two partitions twice)
    expect(parseList(parsePartitions)('2,4,2')).toEqual([2, 4]);
    expect(parseList(parseBatchInterval)('1s,500ms,1000ms')).toEqual([1000, 500]);
  });
});
