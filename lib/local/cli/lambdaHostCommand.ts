import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { TICK_MS } from '../../aws/deploymentContract';
import { EXIT, type ExitWith } from './exitCodes';
import {
  parseCoordinatorTimeoutSeconds,
  parseCount,
  parseDuration,
  parseMemoryMb,
  parsePort,
} from './optionParsers';
import { takenPortSentence } from './takenPortSentence';

/** The flags of `sluice lambda-host`, as commander reads them. */
interface LambdaHostOptions {
  bucket: string;
  stream: string;
  port: number;
  workers: number;
  tick: number;
  modules?: string;
  coordinatorMemory?: number;
  workerMemory?: number;
  coordinatorTimeout?: number;
}

/** `sluice lambda-host`: the development host of `lib/devhost/`, loaded only for this command. */
export function lambdaHostCommand(program: Command, exit: ExitWith): void {
  program
    .command('lambda-host')
    .description(
      "serve the stack's control, coordinator and worker functions on a loopback Lambda Invoke API, for an " +
        'emulator without Lambda (LocalStack without Docker, stack deployed with -c sluice:functions=false)',
    )
    .requiredOption('--bucket <name>', "the stack's BucketName output")
    .requiredOption('--stream <name>', "the stack's StreamName output")
    .option('--port <n>', 'the port on 127.0.0.1', parsePort, 9001)
    .option('--workers <n>', 'worker invocations in flight at once', parseCount, 8)
    .addOption(
      new Option('--tick <time>', 'how often the watchdog ticks the coordinator (0 for never)')
        .argParser(parseDuration)
        .default(TICK_MS, `${TICK_MS / 1000}s`),
    )
    .option(
      '--coordinator-memory <mb>',
      "the coordinator's memory, as the stack was deployed with (sluice:coordinatorMemoryMb; default 1024)",
      parseMemoryMb,
    )
    .option(
      '--worker-memory <mb>',
      "the worker's memory, as the stack was deployed with (sluice:workerMemoryMb; default 1769)",
      parseMemoryMb,
    )
    .option(
      '--coordinator-timeout <seconds>',
      "the coordinator's timeout, as the stack was deployed with (sluice:coordinatorTimeoutSeconds; default 300)",
      parseCoordinatorTimeoutSeconds,
    )
    .option(
      '--modules <paths>',
      'your job modules and functions modules, as sluice:jobModules deploys them: a folder or a comma-separated list of files (default jobs/ when it exists)',
    )
    .action(async (opts: LambdaHostOptions) => {
      exit(await lambdaHost(opts));
    });
}

/** Serves the functions until SIGINT or SIGTERM. */
async function lambdaHost(opts: LambdaHostOptions): Promise<number> {
  const [{ startLocalFunctions }, { findJobModules }] = await Promise.all([
    import('../../devhost/localFunctions'),
    import('../../job/jobModuleFiles'),
  ]);
  let jobModules: ReturnType<typeof findJobModules> = [];
  const spec = opts.modules ?? (existsSync(resolve('jobs')) ? 'jobs' : undefined);
  try {
    if (spec !== undefined) jobModules = findJobModules(spec, process.cwd());
  } catch (error) {
    process.stderr.write(`sluice: --modules: ${(error as Error).message}\n`);
    return EXIT.invalid;
  }
  let functions: Awaited<ReturnType<typeof startLocalFunctions>>;
  try {
    functions = await startLocalFunctions({
      bucket: opts.bucket,
      stream: opts.stream,
      port: opts.port,
      workerConcurrency: Math.max(1, opts.workers),
      tickMs: opts.tick,
      jobModules,
      ...(opts.coordinatorMemory !== undefined ? { coordinatorMemoryMb: opts.coordinatorMemory } : {}),
      ...(opts.workerMemory !== undefined ? { workerMemoryMb: opts.workerMemory } : {}),
      ...(opts.coordinatorTimeout !== undefined
        ? { coordinatorTimeoutMs: opts.coordinatorTimeout * 1000 }
        : {}),
    });
  } catch (error) {
    const taken = takenPortSentence(error, '--port');
    if (taken === undefined) throw error;
    process.stderr.write(`sluice lambda-host: ${taken}\n`);
    return EXIT.invalid;
  }
  const deployed = jobModules.length > 0 ? `, modules ${jobModules.map((m) => m.name).join(', ')}` : '';
  process.stderr.write(
    `serving control, coordinator and worker on ${functions.url} (bucket ${opts.bucket}, stream ${opts.stream}${deployed}); ` +
      'Ctrl-C stops\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await functions.stop();
  return EXIT.ok;
}
