import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GREP_WORD } from '../jobs';
import type { EngineLaunch, EngineName } from './EngineProcess';
import { PARTITIONS, type SocketJobSettings, type Workload } from './sluiceJobs';

/** The repository's root folder. */
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** The Maven project of the Spark program. */
export const SPARK_DIR = fileURLToPath(new URL('.', import.meta.url));
const CLASSES_DIR = join(SPARK_DIR, 'target', 'classes');
const CLASSPATH_FILE = join(SPARK_DIR, 'target', 'classpath.txt');
const MAIN_CLASS = 'sluice.bench.SparkStreamingBench';
const SLUICE_ENGINE = fileURLToPath(new URL('./sluiceEngine.ts', import.meta.url));

/** Cores each engine gets: Spark's `local[N]` and Sluice's worker threads. */
export const ENGINE_CORES = PARTITIONS;

/**
 * The JVM's heap limit per workload (`spark.driver.memory` in a spark-submit run), as a user would set it for each
 * job; `SPARK_BENCH_HEAP` sets one for all. Spark's window keeps its input blocks for the window's length, so the
 * windowed job needs the heap to hold a 60 s window of input: at 2g it ran out of memory about 40 s into the
 * full-window latency run at 800 000 lines/s, and at 6g it held the window (peak RSS 4.5 GB). The jobs without a
 * window keep 2g, compared in alternating searches at 1 s batches (2026-11-30): Spark's Grep held 1.6 M lines/s at
 * 2g twice (both searches then ended, the JVM out of memory on the backlog of their 3.2 M stage; searched on in a
 * fresh process, it holds 2.26 M), and at 6g its receiver fell behind the socket at 1.6 M (1.34 M and 1.46 M
 * found); WordCount found
 * 476 000 lines/s at both heaps in four searches (2g, 6g, 6g, 2g), with its half-rate p50 at 483 and 493 ms at 2g,
 * 521 and 528 ms at 6g. Node keeps its own default heap limit.
 */
export const SPARK_HEAP: Readonly<Record<Workload, string>> = {
  wordCount: process.env.SPARK_BENCH_HEAP ?? '2g',
  grep: process.env.SPARK_BENCH_HEAP ?? '2g',
  hashtags: process.env.SPARK_BENCH_HEAP ?? '6g',
};

/**
 * The module openings Spark 3.5 needs on Java 17. spark-submit adds them itself (the launcher's
 * JavaModuleOptions); a plain `java` run, as here, must pass them.
 */
const JAVA_17_OPTIONS = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  ...[
    'java.lang',
    'java.lang.invoke',
    'java.lang.reflect',
    'java.io',
    'java.net',
    'java.nio',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'jdk.internal.ref',
    'sun.nio.ch',
    'sun.nio.cs',
    'sun.security.action',
    'sun.util.calendar',
  ].map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`),
  '-Djdk.reflect.useDirectMethodHandle=false',
];

/** What building the Spark program did. */
export interface SparkBuild {
  /** True when the classes and classpath from an earlier build were reused. */
  readonly cached: boolean;
  /** Time spent in Maven, in ms (0 when cached). */
  readonly buildMs: number;
  /** The Spark version in the pom. */
  readonly sparkVersion: string;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/**
 * Compiles the Spark program and resolves Spark's jars into `~/.m2` on first use (`mvn -q -B package`, a few
 * minutes and about 200 MB the first time), then reuses `target/` while the pom and sources are unchanged and
 * every jar on the recorded classpath is still there.
 */
export async function ensureSparkBuild(log: (line: string) => void): Promise<SparkBuild> {
  const pom = readFileSync(join(SPARK_DIR, 'pom.xml'), 'utf8');
  const sparkVersion = /<spark\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown';
  const built = existsSync(CLASSPATH_FILE) && existsSync(join(CLASSES_DIR, 'sluice', 'bench'));
  if (built) {
    const inputsMs = Math.max(newestMtime(join(SPARK_DIR, 'pom.xml')), newestMtime(join(SPARK_DIR, 'src')));
    const jarsThere = readFileSync(CLASSPATH_FILE, 'utf8').trim().split(':').every(existsSync);
    if (jarsThere && statSync(CLASSPATH_FILE).mtimeMs >= inputsMs) {
      return { cached: true, buildMs: 0, sparkVersion };
    }
  }
  log(`Building the Spark program (mvn -q -B package in ${SPARK_DIR}); the first build downloads Spark`);
  const started = Date.now();
  try {
    await promisify(execFile)('mvn', ['-q', '-B', 'package'], {
      cwd: SPARK_DIR,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`mvn package failed in ${SPARK_DIR}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  return { cached: false, buildMs: Date.now() - started, sparkVersion };
}

/** Extra settings of one engine launch. */
export interface LaunchOptions {
  /** Extra `node` flags for Sluice, such as `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
}

/** The command line of one engine run, with fresh scratch folders under the OS temp folder. */
export async function launchEngine(
  engine: EngineName,
  settings: SocketJobSettings,
  options: LaunchOptions = {},
): Promise<EngineLaunch> {
  const scratch = await mkdtemp(join(tmpdir(), `sluice-spark-bench-${engine}-`));
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  const jobArgs = [
    `workload=${settings.workload}`,
    `port=${settings.port}`,
    `intervalMs=${settings.intervalMs}`,
    ...(settings.workload === 'hashtags'
      ? [`windowMs=${settings.windowMs}`, `slideMs=${settings.slideMs}`]
      : []),
  ];
  if (engine === 'sluice') {
    return {
      command: process.execPath,
      args: [
        ...(options.nodeFlags ?? []),
        '--import',
        'tsx',
        SLUICE_ENGINE,
        ...jobArgs,
        `workers=${ENGINE_CORES}`,
        `storeDir=${join(scratch, 'store')}`,
      ],
      cwd: REPO_DIR,
      scratchDir: scratch,
      cleanup,
    };
  }
  const classpath = `${CLASSES_DIR}:${readFileSync(CLASSPATH_FILE, 'utf8').trim()}`;
  return {
    command: 'java',
    args: [
      `-Xmx${SPARK_HEAP[settings.workload]}`,
      ...JAVA_17_OPTIONS,
      '-cp',
      classpath,
      MAIN_CLASS,
      ...jobArgs,
      `cores=${ENGINE_CORES}`,
      `grepWord=${GREP_WORD}`,
      `checkpointDir=${join(scratch, 'checkpoint')}`,
      `localDir=${join(scratch, 'local')}`,
    ],
    cwd: SPARK_DIR,
    scratchDir: scratch,
    cleanup,
  };
}

/** `java -version`'s first line, such as `openjdk version "17.0.15" 2025-04-15`. */
export async function javaVersion(): Promise<string> {
  try {
    const { stderr } = await promisify(execFile)('java', ['-version']);
    return stderr.split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
