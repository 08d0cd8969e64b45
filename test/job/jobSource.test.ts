import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobFileError } from '../../lib/errors';
import { contextFromSource } from '../../lib/job/JobSource';
import { EXIT } from '../../lib/local/cli/exitCodes';
import { reportInvalid } from '../../lib/local/cli/reportInvalid';
import { StreamingContext } from '../../lib/StreamingContext';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-job-source-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** What `contextFromSource` rejects with for a module source. */
async function refusal(path: string, exportName?: string): Promise<unknown> {
  return contextFromSource({ kind: 'module', path, ...(exportName ? { exportName } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('contextFromSource', () => {
  it('refuses a module without the job export as a job file, which the CLI reports in one line', async () => {
    // given a module that exports no job
    const path = join(dir, 'nojob.mjs');
    await writeFile(path, 'export const x = 1;\n');
    // when its default export is asked for
    const error = await refusal(path);
    // then it is refused as a job file naming the module and the export (it was a plain Error: a stack trace
    // and exit code 1 from sluice run and validate)
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toBe(
      `job ${path}: the module has no job export named default; export a job made with defineJob(options, build)`,
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(reportInvalid(error)).toBe(EXIT.invalid);
    expect(stderr).toHaveBeenCalledWith(`${(error as Error).message}\n`);
  });

  it('refuses a module that cannot be loaded as a job file, naming the line of its syntax error', async () => {
    // given a TypeScript module with a syntax error on its third line
    const path = join(dir, 'broken.ts');
    await writeFile(
      path,
      'const a = 1;\nconst b = 2;\nexport default { options: {}, build: (ssc) => a + };\n',
    );
    // when it is loaded
    const error = await refusal(path);
    // then it is refused as a job file, its line in the sentence (it was esbuild's trace and exit code 1)
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toMatch(
      new RegExp(`^job ${path}: cannot be loaded: .*broken\\.ts:3:\\d+`, 's'),
    );
  });

  it('refuses a job whose build throws as a job file, naming the error and its line in the module', async () => {
    // given a module whose job throws an error of its own while it builds the graph, on the module's fourth line
    const path = join(dir, 'throws.mjs');
    await writeFile(
      path,
      'export default {\n  options: { batchIntervalMs: 1000 },\n  build() {\n    throw new Error("no such table");\n  },\n};\n',
    );
    // when its context is built
    const error = await refusal(path);
    // then the refusal names the error and where the module raised it
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toBe(
      `job ${path}: threw while building the job: Error: no such table (at ${path}:4:11)`,
    );
  });

  it('names the export asked for after #', async () => {
    // given a module whose default export is no job
    const path = join(dir, 'five.mjs');
    await writeFile(path, 'export default 5;\n');
    // when a named export it lacks is asked for, then the refusal names both
    const error = await refusal(path, 'sessions');
    expect(error).toBeInstanceOf(JobFileError);
    expect((error as Error).message).toBe(
      `job ${path}#sessions: the module has no job export named sessions; export a job made with defineJob(options, build)`,
    );
  });
});

/** What `reportInvalid` writes to stderr for the error `build` throws, and the exit code it returns. */
function reported(build: () => void): { code: number; text: string } {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = reportInvalid(error);
  return { code, text: stderr.mock.calls.map(([text]) => String(text)).join('') };
}

describe('reportInvalid', () => {
  it("leads a TypeScript job's graph error with the line that made the stream", () => {
    // given a window that is no multiple of the batch interval
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    // when the CLI reports it, then it names the file and line as well as the argument (it named the argument alone)
    const { code, text } = reported(() =>
      ssc
        .queueStream([[1]])
        .window(2500)
        .print(),
    );
    expect(code).toBe(EXIT.invalid);
    expect(text).toMatch(
      /^test\/job\/jobSource\.test\.ts:\d+ \(window\): window of 2500 ms must be a positive multiple of the batch interval of 1000 ms\n$/,
    );
  });

  it('leaves a message that names its stream already as it is', () => {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    ssc.queueStream([[1]]).print();
    ssc.queueStream([[2]]);
    const { code, text } = reported(() => ssc.graph.start(0));
    expect(code).toBe(EXIT.invalid);
    expect(text).toMatch(/^the input stream test\/job\/jobSource\.test\.ts:\d+ /);
  });
});
