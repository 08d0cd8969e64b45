import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validatorSource, validators } from '../../lib/job/generateSchemaValidator.mjs';

const root = new URL('../..', import.meta.url).pathname;

describe('the job and worker event schemas, compiled ahead of time', () => {
  it.each(validators.map((v) => [v.schema.pathname.slice(root.length), v] as const))(
    'is what the generator writes from the current %s (run `npm run schema` after editing it)',
    async (_, v) => {
      const committed = await readFile(v.output, 'utf8');
      const file = v.output.pathname.slice(root.length);
      expect(committed === validatorSource(v), `${file} is stale`).toBe(true);
    },
  );

  it('writes both: the job schema and the worker event schema', () => {
    expect(validators.map((v) => v.output.pathname.slice(root.length))).toEqual([
      'lib/job/jobSchemaValidator.generated.mjs',
      'lib/aws/workerEventValidator.generated.mjs',
    ]);
  });

  it('validates a job without compiling any code: no `new Function` on the way', () => {
    // given a process in which calling the Function constructor throws
    const script = `
      globalThis.Function = new Proxy(Function, {
        construct() { throw new Error('new Function was called'); },
        apply() { throw new Error('Function() was called'); },
      });
      const { validateJob } = await import(${JSON.stringify(`${root}lib/job/validateJob.ts`)});
      try {
        validateJob({ name: '', batchIntervalMs: 1000, sources: { q: { type: 'queue', batches: [[1]] } },
          outputs: [{ stream: 'q', type: 'print' }] });
        console.log('valid');
      } catch (error) {
        console.log(error.name + ': ' + error.message.split('\\n').slice(0, 2).join(' '));
      }`;
    // when a job with an empty name is validated there
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    // then the schema's own error comes back, not the Function trap's
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toMatch(/^JobValidationError: invalid job: +name: /);
  });

  it('checks a worker event without compiling any code either', () => {
    // given a process in which calling the Function constructor throws
    const script = `
      globalThis.Function = new Proxy(Function, {
        construct() { throw new Error('new Function was called'); },
        apply() { throw new Error('Function() was called'); },
      });
      const { parseWorkerEvent } = await import(${JSON.stringify(`${root}lib/aws/workerEvents.ts`)});
      try {
        parseWorkerEvent({ jobKey: 'job.json', task: { jobId: 0, batchTime: 0, partition: '0', attempt: 0,
          stage: { stageId: 0, numPartitions: 1, rootId: 0, datasets: [] }, shuffleInputs: {} } });
        console.log('valid');
      } catch (error) {
        console.log(error.name + ': ' + error.message);
      }`;
    // when an event whose partition is a string is checked there
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    // then the schema's own issue comes back, not the Function trap's
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(
      'InvalidTaskEventError: invalid task event: task.partition must be a whole number (got "0")',
    );
  });
});
