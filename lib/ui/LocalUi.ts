import { InvalidArgumentError } from 'commander';
import type { InputDStream } from '../dstream/InputDStream';
import type { StreamingListener } from '../scheduler/StreamingListener';
import { MetricsJsonl } from './MetricsJsonl';
import { StreamingUiState } from './StreamingUiState';
import { DEFAULT_UI_PORT, UiServer } from './UiServer';

/** `--ui [port]`: a port from 0 (a free one) to 65535. */
export function parseUiPort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535 (0 picks a free one), got ${text}`);
  }
  return port;
}

/**
 * What `sluice run --ui [port] --metrics <file>` adds to a local run: the Streaming UI's server with the state
 * it shows, and the metrics file, as listeners of the run. `end` tells the page the run is over; `close` stops the server.
 */
export class LocalUi {
  private constructor(
    /** The run's listeners that feed the UI and the file. */
    readonly listeners: readonly StreamingListener[],
    private readonly state: StreamingUiState | undefined,
    private readonly server: UiServer | undefined,
  ) {}

  /** Starts the server (before the job, so a taken port fails at once); undefined when neither is asked for. */
  static async start(opts: {
    readonly ui?: number | true;
    readonly metrics?: string;
  }): Promise<LocalUi | undefined> {
    if (opts.ui === undefined && opts.metrics === undefined) return undefined;
    const listeners: StreamingListener[] = [];
    if (opts.metrics !== undefined) listeners.push(new MetricsJsonl(opts.metrics));
    if (opts.ui === undefined) return new LocalUi(listeners, undefined, undefined);
    const state = new StreamingUiState();
    const server = await UiServer.start(state, opts.ui === true ? DEFAULT_UI_PORT : opts.ui);
    listeners.push(state);
    return new LocalUi(listeners, state, server);
  }

  /**
   * Names the run on the page once the job is built, and prints the page's address. `wallClock`: false on the
   * logical clock (`--fast`), whose batches have no date. `inputs`: the job's input streams, whose state and
   * latest error the page shows live (see `StreamingUiState.watchInputs`); default none.
   */
  describe(
    jobName: string,
    batchIntervalMs: number,
    log: (text: string) => void,
    wallClock = true,
    inputs: readonly InputDStream<unknown>[] = [],
  ): void {
    if (!this.state || !this.server) return;
    this.state.describe(jobName, batchIntervalMs, Date.now(), wallClock);
    this.state.watchInputs(inputs);
    log(`Streaming UI at ${this.server.url}\n`);
  }

  /**
   * Marks the run as ended (failed, with `error`) on the page, which goes on being served until `close`: the
   * page shows a banner instead of a live run. Nothing when there is no UI.
   */
  end(error?: string): void {
    this.state?.end(error);
  }

  /** True when a Streaming UI is served (`--ui`), not just a metrics file written. */
  get serving(): boolean {
    return this.server !== undefined;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await this.server?.close();
  }
}
