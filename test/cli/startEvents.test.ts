import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../lib/local/cli';

/**
 * The files of `events/aws/` are events for the control function, not job documents. The README asks for
 * `sluice validate` on the file a user sends, since the Lambda runtime parses it and keeps only the last of a key
 * given twice; read as a job document, a start event was refused with a line for each of its job's fields
 * (`name: is required`, `action: is not a field`), none saying what the file was.
 */

const root = new URL('../..', import.meta.url).pathname;
let stdout: string;
let stderr: string;
let dir: string;
beforeEach(async () => {
  stdout = '';
  stderr = '';
  dir = await mkdtemp(join(tmpdir(), 'sluice-start-events-'));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('a start event given to sluice validate', () => {
  it("checks the event's job", async () => {
    // given the start event of the main job, as sent on AWS
    const event = join(root, 'events/aws/start-hashtag-counts.json');
    // when it is validated, then its job is checked and found valid
    expect(await main(['node', 'sluice', 'validate', event])).toBe(0);
    expect(stdout).toContain(
      'start-hashtag-counts.json is a start event whose job is valid: 1 input(s), 2 output(s)',
    );
  });

  it('names each problem of the job at its path in the event, a key given twice included', async () => {
    // given a start event whose job names the stream counts twice, and one whose job gives its interval as text
    const job = (interval: string, streams: string) =>
      `{"action": "start", "batches": 3, "job": {"name": "twice", "batchIntervalMs": ${interval},
        "sources": {"q": {"type": "queue", "batches": [[1]]}}, "streams": {${streams}},
        "outputs": [{"stream": "counts", "type": "print"}]}}`;
    const counts = '"counts": {"from": "q", "ops": [{"op": "count"}]}';
    await writeFile(join(dir, 'twice.json'), job('1000', `${counts}, ${counts}`));
    await writeFile(join(dir, 'text.json'), job('"1s"', counts));
    // when each is validated, then it exits 2 with its problem at its path in the event
    expect(await main(['node', 'sluice', 'validate', join(dir, 'twice.json')])).toBe(2);
    expect(stderr).toContain('  job.streams.counts: is given twice in one object');
    expect(await main(['node', 'sluice', 'validate', join(dir, 'text.json')])).toBe(2);
    expect(stderr).toContain('  job.batchIntervalMs: must be a whole number (got "1s")');
    expect(stderr).not.toMatch(/^ {2}(action|batches):/m);
  });
});

describe('an event where a job must run', () => {
  it('is refused in one sentence saying what it is and what to give', async () => {
    // given the start and the stop events of events/aws/
    const start = join(root, 'events/aws/start-hashtag-counts.json');
    const stop = join(root, 'events/aws/stop.json');
    // when the start event is run, and the stop event validated
    expect(await main(['node', 'sluice', 'run', start, '--fast', '--batches', '1'])).toBe(2);
    expect(await main(['node', 'sluice', 'validate', stop])).toBe(2);
    // then each is refused naming what it is, not with every field of a job document
    expect(stderr).toContain(
      'is a start event for the control function on AWS, not a job document; give the job itself',
    );
    expect(stderr).toContain('is a stop event for the control function on AWS, not a job document');
    expect(stderr).not.toContain('is required');
  });
});
