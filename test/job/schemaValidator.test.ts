import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validatorSource } from '../../lib/job/generateSchemaValidator.mjs';

const root = new URL('../..', import.meta.url).pathname;

describe('the job schema, compiled ahead of time', () => {
  it('is what the generator writes from the current job.schema.json (run `npm run schema` after editing it)', async () => {
    const committed = await readFile(
      new URL('../../lib/job/jobSchemaValidator.generated.mjs', import.meta.url),
      'utf8',
    );
    expect(committed === validatorSource(), 'lib/job/jobSchemaValidator.generated.mjs is stale').toBe(true);
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
});
