// The `sluice` command line: this file assembles the program; each command, its flags and its work live in
// `cli/<name>Command.ts`.
import { Command, CommanderError } from 'commander';
import { EXIT } from './cli/exitCodes';
import { lambdaHostCommand } from './cli/lambdaHostCommand';
import { produceCommand } from './cli/produceCommand';
import { runCommand } from './cli/runCommand';
import { tuneCommand } from './cli/tuneCommand';
import { uiCommand } from './cli/uiCommand';
import { validateCommand } from './cli/validateCommand';
import { packageVersion } from './packageVersion';

/** Runs the CLI and returns its exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const exit = (commandCode: number) => {
    code = commandCode;
  };
  const program = new Command()
    .name('sluice')
    .description(
      'Discretized Streams on serverless AWS: run and check Sluice jobs in embedded local mode, feed a Kinesis stream',
    )
    .version(packageVersion(), '-V, --version', "print Sluice's version")
    .exitOverride()
    .showHelpAfterError();
  // Added with `program.command(…)` inside each, in this order (the order of the help), so that every command
  // inherits the program's exitOverride and showHelpAfterError: `addCommand` would not copy them.
  for (const add of [runCommand, tuneCommand, uiCommand, validateCommand, produceCommand, lambdaHostCommand])
    add(program, exit);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    throw error;
  }
  return code;
}
