import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The two engines of the comparison. */
export type EngineName = 'sluice' | 'spark';

/** One completed batch as an engine reports it: its own delays and its whole output. */
export interface BatchReport {
  /** The batch's wall-clock time, ms since the epoch (Spark's batch time). */
  readonly timeMs: number;
  /** Records that entered through the input stream. */
  readonly records: number;
  readonly schedulingDelayMs: number;
  readonly processingMs: number;
  /**
   * Processing of the unreported batches since the last report (Sluice's in-between batches of a window, which
   * compute their per-batch reduce ahead of the slide): work the slide's budget must also hold.
   */
  readonly aheadMs?: number;
  /** Scheduling delay plus processing: from the batch's time until its last job ended. */
  readonly totalDelayMs: number;
  /** The batch's output: `[[key, count], …]`, or a count for grep. */
  readonly result: unknown;
  /** Set when the batch failed. */
  readonly error?: string;
}

/** How to start an engine process. */
export interface EngineLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The run's scratch folder (Sluice's block store; Spark's checkpoint and local dirs). */
  readonly scratchDir: string;
  /** Removes the scratch folder once the process is gone. */
  readonly cleanup: () => Promise<void>;
}

/** Memory of a process from `/proc/<pid>/status`, in bytes. */
export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  readonly rssBytes: number;
  /** Peak resident set size (VmHWM), since the start or the last {@link EngineProcess.resetPeak}. */
  readonly peakBytes: number;
}

/** How many characters of an engine's stderr are kept for error messages. */
const STDERR_TAIL_CHARS = 8000;
/** How often RSS is sampled, in ms; a fallback for kernels where the peak cannot be reset. */
const RSS_SAMPLE_MS = 200;

/** Every engine process still running, so the driver can stop them all (by pid) however it ends. */
const running = new Set<EngineProcess>();

/**
 * An engine running as a child process: `SparkStreamingBench.java` in a JVM or `sluiceEngine.ts` in Node.
 * Both print JSON lines on stdout (`started`, then one `batch` per batch) and stop when stdin closes.
 */
export class EngineProcess {
  /** Every batch reported so far, in order. */
  readonly reports: BatchReport[] = [];
  /** When the process was spawned, ms since the epoch. */
  readonly spawnedAtMs = Date.now();
  /** When the engine said it had started (its context running), ms since the epoch. */
  startedAtMs: number | undefined;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: string | null } | undefined;
  /** The highest VmRSS sampled since the last {@link resetPeak}. */
  sampledPeakBytes = 0;
  private stderrTail = '';
  private readonly wakers = new Set<() => void>();
  private readonly sampler: NodeJS.Timeout;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(
    readonly engine: EngineName,
    private readonly launch: EngineLaunch,
  ) {
    this.child = spawn(launch.command, launch.args, { cwd: launch.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(this);
    this.child.stdin!.on('error', () => {}); // the process may be gone already when stdin is closed
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.receive(line));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        clearInterval(this.sampler);
        running.delete(this);
        this.wake();
        resolve();
      });
      this.child.on('error', (error) => {
        this.stderrTail += `\n${error.message}`;
        this.exit = { code: null, signal: null };
        clearInterval(this.sampler);
        running.delete(this);
        this.wake();
        resolve();
      });
    });
    this.sampler = setInterval(() => {
      const memory = this.memory();
      if (memory) this.sampledPeakBytes = Math.max(this.sampledPeakBytes, memory.rssBytes);
    }, RSS_SAMPLE_MS);
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last few thousand characters the engine wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /**
   * Resolves with the first non-undefined value of `check`, evaluated now and after every report, or with
   * undefined once the process exits or `timeoutMs` passes.
   */
  async waitUntil<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0 || this.exit) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const wakers = this.wakers;
        function done() {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        }
        wakers.add(done);
      });
    }
  }

  /** VmRSS and VmHWM now, or undefined once the process is gone. */
  memory(): ProcessMemory | undefined {
    if (this.exit || this.child.pid === undefined) return undefined;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kib = (field: string) =>
        Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rssBytes: kib('VmRSS') * 1024, peakBytes: kib('VmHWM') * 1024 };
    } catch {
      return undefined;
    }
  }

  /**
   * Resets the peak RSS to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux 4.0+), so the next
   * {@link memory} reports the peak of what follows. False when the kernel refused.
   */
  resetPeak(): boolean {
    this.sampledPeakBytes = this.memory()?.rssBytes ?? 0;
    try {
      writeFileSync(`/proc/${this.child.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Closes stdin (the engine stops after its running batch), then kills the process after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.exit) {
      this.child.stdin!.end();
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.launch.cleanup();
  }

  /** Kills the process at once, by its pid. */
  kill(): void {
    if (!this.exit && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Kills every engine process still running and removes its scratch folder; for the driver's exit paths. */
  static killAll(): void {
    for (const engine of running) {
      engine.kill();
      rmSync(engine.launch.scratchDir, { recursive: true, force: true });
    }
  }

  private receive(line: string): void {
    if (!line.startsWith('{')) return; // anything else a JVM or Node prints is not a report
    let event: { event?: string; atMs?: number } & Partial<BatchReport>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.event === 'started') this.startedAtMs = event.atMs;
    if (event.event === 'batch') this.reports.push(event as BatchReport);
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
