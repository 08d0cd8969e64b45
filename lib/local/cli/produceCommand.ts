import type { Command } from 'commander';
import { EXIT, type ExitWith } from './exitCodes';
import { parseCount, parseCountIn } from './optionParsers';

/** `sluice produce <stream>`: feeds a Kinesis stream with the tweet generator's records. */
export function produceCommand(program: Command, exit: ExitWith): void {
  program
    .command('produce')
    .description(
      "put the built-in tweet generator's tweets into a Kinesis stream, as JSON lines (honours AWS_ENDPOINT_URL)",
    )
    .argument('<stream>', 'the Kinesis stream name')
    .option('--rate <n>', 'tweets per second, 1 to 1000000', parseCountIn(1, 1_000_000), 500)
    .option('--seconds <n>', 'for how many seconds', parseCount, 60)
    .option('--seed <n>', 'the generator seed', parseCount, 1)
    .action(async (stream: string, opts: { rate: number; seconds: number; seed: number }) => {
      exit(await produce(stream, opts));
    });
}

/** Puts `rate` generated tweets a second into a stream for `seconds` seconds, one second's tweets per call batch. */
async function produce(stream: string, opts: { rate: number; seconds: number; seed: number }) {
  // Loaded only for this command: running jobs locally never pays for the AWS SDK.
  const [{ KinesisProducer }, { kinesisClient }, { withAwsSetupHint }, { GeneratorSource }] =
    await Promise.all([
      import('../../aws/KinesisProducer'),
      import('../../aws/awsClients'),
      import('../../aws/awsSetupHint'),
      import('../../source/GeneratorSource'),
    ]);
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: opts.rate, seed: opts.seed });
  const producer = new KinesisProducer({ client: kinesisClient(), streamName: stream });
  const started = Date.now();
  for (let second = 0; second < opts.seconds; second++) {
    const lines = Array.from({ length: opts.rate }, (_, i) =>
      JSON.stringify(generator.recordAt(second * opts.rate + i)),
    );
    try {
      await producer.put(lines);
    } catch (error) {
      process.stderr.write(`sluice produce: ${withAwsSetupHint(error)}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`second ${second + 1}: ${producer.sent} tweets in ${stream}\n`);
    const wait = started + (second + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return EXIT.ok;
}
