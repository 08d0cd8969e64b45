import { type LogFields, type Logger, type LogLevel, logs } from '../log/Logger';

/** Settings of a `StderrLogger`. */
export interface StderrLoggerOptions {
  /** The least severe level written. Default `info`. */
  readonly level?: LogLevel;
  /**
   * One JSON object a line (`level`, `message`, `timestamp` and the fields, the keys Powertools writes on Lambda),
   * instead of the message alone. Default false.
   */
  readonly json?: boolean;
  /** Where lines go. Default: process.stderr, so that stdout carries only a job's outputs. */
  readonly write?: (text: string) => void;
  /** Fields every line carries (in JSON lines). Default none. */
  readonly fields?: LogFields;
}

/**
 * The local runtime's logger (`sluice run --log-level`, `--log-json`): by default each line is its message, the
 * human-readable line `sluice run` has always printed; with `json`, each line is a JSON object a program can
 * parse, with the same keys as the Lambda functions' lines.
 *
 * @example
 * const log = new StderrLogger({ level: 'warn', json: true }).with({ job: 'counts' });
 * log.warn('Batch 3000 ms: 2 records dead-lettered', { batchTime: 3000 });
 * // {"level":"WARN","message":"Batch 3000 ms: 2 records dead-lettered","timestamp":"…","job":"counts","batchTime":3000}
 */
export class StderrLogger implements Logger {
  private readonly level: LogLevel;
  private readonly json: boolean;
  private readonly write: (text: string) => void;
  private readonly fields: LogFields;

  constructor(options: StderrLoggerOptions = {}) {
    this.level = options.level ?? 'info';
    this.json = options.json ?? false;
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.fields = options.fields ?? {};
  }

  debug(message: string, fields?: LogFields): void {
    this.line('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.line('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.line('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.line('error', message, fields);
  }

  with(fields: LogFields): Logger {
    return new StderrLogger({
      level: this.level,
      json: this.json,
      write: this.write,
      fields: { ...this.fields, ...fields },
    });
  }

  private line(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!logs(this.level, level)) return;
    if (!this.json) {
      this.write(`${message}\n`);
      return;
    }
    const own = { level: level.toUpperCase(), message, timestamp: new Date().toISOString() };
    // Level, message and time first, and never replaced by a field of the same name.
    const line = Object.assign({ ...own }, this.fields, fields, own);
    this.write(`${JSON.stringify(line, errorsAsText)}\n`);
  }
}

/** An Error has no enumerable fields: JSON would write `{}` where the cause should be. */
function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
