import type { Command } from 'commander';
import { JobValidationError } from '../../errors';
import { inStartEvent } from './controlEventJob';
import { EXIT, type ExitWith } from './exitCodes';
import { jobSourceFromArgument } from './jobSourceFromArgument';
import { ALLOW_FUNCTIONS_OUTSIDE_HELP, JOB_ARGUMENT_HELP } from './optionParsers';
import { reportInvalid } from './reportInvalid';

/**
 * `sluice validate <job>`: builds the job's stream graph and starts it at time 0, running nothing. A start event for
 * the control function on AWS is taken too: its job is checked, each problem at its path in the event (`job.…`).
 */
export function validateCommand(program: Command, exit: ExitWith): void {
  program
    .command('validate')
    .description('check a job without running it')
    .argument('<job>', JOB_ARGUMENT_HELP)
    .option('--allow-functions-outside', ALLOW_FUNCTIONS_OUTSIDE_HELP)
    .action(async (jobArg: string, opts: { allowFunctionsOutside?: boolean }) => {
      exit(await validate(jobArg, opts));
    });
}

async function validate(jobArg: string, opts: { allowFunctionsOutside?: boolean }): Promise<number> {
  let fromStartEvent = false;
  try {
    const source = await jobSourceFromArgument(jobArg, { ...opts, startEvents: true });
    fromStartEvent = source.inStartEvent === true;
    const { contextFromSource } = await import('../../job/JobSource');
    const ssc = await contextFromSource(source);
    ssc.graph.start(0);
    const what = fromStartEvent ? 'a start event whose job is valid' : 'a valid job';
    process.stdout.write(
      `${jobArg} is ${what}: ${ssc.graph.inputs.length} input(s), ${ssc.graph.outputs.length} output(s)\n`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportInvalid(
      fromStartEvent && error instanceof JobValidationError
        ? new JobValidationError(inStartEvent(error.issues))
        : error,
    );
  }
}
