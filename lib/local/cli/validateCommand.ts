import type { Command } from 'commander';
import { EXIT, type ExitWith } from './exitCodes';
import { jobSourceFromArgument } from './jobSourceFromArgument';
import { ALLOW_FUNCTIONS_OUTSIDE_HELP, JOB_ARGUMENT_HELP } from './optionParsers';
import { reportInvalid } from './reportInvalid';

/** `sluice validate <job>`: builds the job's stream graph and starts it at time 0, running nothing. */
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
  try {
    const source = await jobSourceFromArgument(jobArg, opts);
    const { contextFromSource } = await import('../../job/JobSource');
    const ssc = await contextFromSource(source);
    ssc.graph.start(0);
    process.stdout.write(
      `${jobArg} is a valid job: ${ssc.graph.inputs.length} input(s), ${ssc.graph.outputs.length} output(s)\n`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportInvalid(error);
  }
}
