import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { driveJob } from '../../lib/scheduler/JobDriver';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { Source } from '../../lib/source/Source';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-driver-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A source that writes what happens to it into `events`; `failStart` makes its start throw. */
function recordingSource(name: string, events: string[], failStart = false): Source<number> {
  return {
    description: name,
    replayable: true,
    start: async () => {
      events.push(`${name} start`);
      if (failStart) throw new Error(`${name} cannot connect`);
    },
    recordsFor: async (batchTime) => {
      events.push(`${name} batch ${batchTime}`);
      return [batchTime];
    },
    stop: async () => {
      events.push(`${name} stop`);
    },
  };
}

/** A job over the given sources, connected to a folder store and an in-process runner whose close is recorded. */
function connectedJob(sources: Source<number>[], events: string[]) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  for (const source of sources) ssc.sourceStream(source, 1).collectBatches();
  const store = new LocalFolderStore(join(dir, 'store'));
  const runner = connectInProcess(ssc, store, dir);
  const close = runner.close.bind(runner);
  runner.close = async () => {
    events.push('runner close');
    await close();
  };
  return { ssc, scheduler: new JobScheduler(ssc, new LogicalClock(), { name: 'driven' }), runner };
}

describe('driveJob, one run of a connected job in any runtime', () => {
  it('starts the sources, runs the batches, then stops the sources and closes the runners', async () => {
    // given a job over one source
    const events: string[] = [];
    const { ssc, scheduler, runner } = connectedJob([recordingSource('a', events)], events);
    // when it is driven for two batches
    const summary = await driveJob(ssc, scheduler, {
      logicalClock: true,
      limits: { batches: 2 },
      runners: [runner],
    });
    // then the batches ran between the source's start and its stop, and the runner closed last
    expect(summary.error).toBeUndefined();
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000]);
    expect(events).toEqual(['a start', 'a batch 1000', 'a batch 2000', 'a stop', 'runner close']);
  });

  it('stops every source and closes the runners when a source fails to start', async () => {
    // given a job whose second source cannot connect
    const events: string[] = [];
    const { ssc, scheduler, runner } = connectedJob(
      [recordingSource('a', events), recordingSource('b', events, true)],
      events,
    );
    // when it is driven
    const run = driveJob(ssc, scheduler, { logicalClock: true, limits: { batches: 2 }, runners: [runner] });
    // then the failure comes out, no batch ran, and both sources stopped and the runner closed all the same
    await expect(run).rejects.toThrow('b cannot connect');
    expect(events).toEqual(['a start', 'b start', 'a stop', 'b stop', 'runner close']);
  });
});
