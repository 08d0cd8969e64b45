import { JobValidationError } from '../errors';
import type { Source } from '../source/Source';

/**
 * Stands in for a cloud source where no runtime provides one (local mode, or a worker, which never reads
 * sources): the graph builds, and a run that starts it explains. `path` is where the job asks for it
 * (`sources.tweets.type`, or `kinesisStream()` in a TypeScript job).
 */
export class UnavailableSource implements Source<string> {
  readonly replayable = false;

  constructor(
    readonly description: string,
    private readonly path: string,
  ) {}

  async start(): Promise<void> {
    throw new JobValidationError([
      {
        path: this.path,
        message: `the source ${this.description} is read by the serverless coordinator; run this job on AWS or LocalStack (see the README), or use a generator, queue, folder or socket source locally`,
      },
    ]);
  }

  async recordsFor(): Promise<string[]> {
    return [];
  }
}
