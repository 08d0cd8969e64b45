import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogFields, Logger } from '../log/Logger';

/** What Powertools reads of the Lambda context (the handler's second argument). */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
}

/**
 * The engine's `Logger` on Lambda, over AWS Lambda Powertools' Logger: one JSON line per call, with Powertools'
 * keys (`level`, `message`, `timestamp`, `service`, `cold_start`, `function_name`, `function_request_id`, …)
 * and the engine's fields (`job`, `batchTime`, `stageId`, …), which CloudWatch Logs Insights discovers. The
 * level comes from `POWERTOOLS_LOG_LEVEL` (or Lambda's own log level setting), default `INFO`.
 *
 * A function creates one at module scope and asks it for each invocation's logger, which carries the invocation's
 * request id in every line. The id goes with each line rather than into Powertools' shared state alone, so that
 * invocations served at once by one process (the development Lambda host does) keep their own ids.
 *
 * @example
 * // functions/worker.ts
 * const log = PowertoolsLog.forFunction('sluice-worker');
 * export const handler = (event: unknown, context?: LambdaContextLike) =>
 *   runtime.handle(event, log.forInvocation(context));
 */
export class PowertoolsLog implements Logger {
  private constructor(
    private readonly logger: PowertoolsLogger,
    private readonly fields: LogFields,
  ) {}

  /** A function's logger, created once at module scope; `POWERTOOLS_SERVICE_NAME` overrides `serviceName`. */
  static forFunction(serviceName: string): PowertoolsLog {
    return new PowertoolsLog(new PowertoolsLogger({ serviceName }), {});
  }

  /**
   * The logger of one invocation: Powertools learns the context (function, cold start), and every line carries
   * the invocation's request id. Without a context (a test calling the handler directly), lines carry none.
   */
  forInvocation(context?: Partial<LambdaContextLike>): PowertoolsLog {
    if (context?.awsRequestId === undefined) return this;
    // Powertools' type asks for the whole context object of `aws-lambda`; it reads only these fields.
    this.logger.addContext(context as Parameters<PowertoolsLogger['addContext']>[0]);
    return this.with({ function_request_id: context.awsRequestId });
  }

  debug(message: string, fields?: LogFields): void {
    this.logger.debug(message, { ...this.fields, ...fields });
  }

  info(message: string, fields?: LogFields): void {
    this.logger.info(message, { ...this.fields, ...fields });
  }

  warn(message: string, fields?: LogFields): void {
    this.logger.warn(message, { ...this.fields, ...fields });
  }

  error(message: string, fields?: LogFields): void {
    this.logger.error(message, { ...this.fields, ...fields });
  }

  with(fields: LogFields): PowertoolsLog {
    return new PowertoolsLog(this.logger, { ...this.fields, ...fields });
  }
}
