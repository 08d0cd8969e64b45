import type { Command } from 'commander';
import { parseUiPort } from '../../ui/LocalUi';
import { EXIT, type ExitWith } from './exitCodes';
import { takenPortSentence } from './takenPortSentence';

/** The flags of `sluice ui`, as commander reads them. */
interface UiCommandOptions {
  bucket?: string;
  job?: string;
  tune?: string;
  port: number;
}

/** `sluice ui`: serves the page until Ctrl-C; the AWS SDK is loaded only for this command. */
export function uiCommand(program: Command, exit: ExitWith): void {
  program
    .command('ui')
    .description(
      'serve the Streaming UI of a job on AWS, read-only, from the metrics its coordinator keeps, or of a sluice tune search',
    )
    .option('--bucket <name>', "the stack's bucket (with --job)")
    .option('--job <name>', 'the job, as named when submitted (with --bucket)')
    .option('--tune <file>', 'a search that sluice tune --out wrote, on the Tune page')
    .option('--port <n>', 'the port on 127.0.0.1 (0 picks a free one)', parseUiPort, 4040)
    .action(async (opts: UiCommandOptions) => {
      exit(await awsUi(opts));
    });
}

/** Serves a job on AWS from its bucket, a tune search, or both, until SIGINT or SIGTERM. */
async function awsUi(opts: UiCommandOptions): Promise<number> {
  const log = (text: string) => process.stderr.write(text);
  const { bucket, job, port } = opts;
  if ((bucket === undefined) !== (job === undefined) || (bucket === undefined && opts.tune === undefined)) {
    log(
      'sluice ui: give --bucket and --job for a job on AWS, --tune <file> for a sluice tune search, or both; a local run serves its own: sluice run <job> --ui\n',
    );
    return EXIT.invalid;
  }
  // A file that is no tune search is bad input, as a bad flag is (exit 2), not a failure of the UI.
  const { readTuneView } = await import('../tune/tuneView');
  let tune: Awaited<ReturnType<typeof readTuneView>> | undefined;
  try {
    tune = opts.tune === undefined ? undefined : await readTuneView(opts.tune);
  } catch (error) {
    log(`sluice ui: ${(error as Error).message}\n`);
    return EXIT.invalid;
  }
  let server: { close(): Promise<void> };
  try {
    if (bucket !== undefined && job !== undefined) {
      const { serveAwsUi } = await import('../../aws/serveAwsUi');
      server = await serveAwsUi({ bucket, job, port }, log, tune);
    } else {
      const { UiServer } = await import('../../ui/UiServer');
      const tunePage = await UiServer.start(undefined, port, tune);
      log(`sluice tune search ${opts.tune} at ${tunePage.url}#/tune\n`);
      server = tunePage;
    }
  } catch (error) {
    // A taken port is a command-line problem (exit 2), as a bad flag is; the rest is the UI failing to start.
    const taken = takenPortSentence(error, '--port');
    if (taken !== undefined) {
      log(`sluice ui: ${taken}\n`);
      return EXIT.invalid;
    }
    const { withAwsSetupHint } = await import('../../aws/awsSetupHint');
    process.stderr.write(`sluice ui: ${withAwsSetupHint(error)}\n`);
    return EXIT.failed;
  }
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return EXIT.ok;
}
