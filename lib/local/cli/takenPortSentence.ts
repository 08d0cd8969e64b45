import { PortInUseError } from '../../errors';

/**
 * The sentence for a server whose port is taken, completed with the option of the command that asked for it
 * (`--ui` on `run`, `--port` on `ui` and `lambda-host`); undefined for any other error.
 *
 * @example
 * takenPortSentence(new PortInUseError('127.0.0.1', 9001), '--port');
 * // 'port 9001 on 127.0.0.1 is in use: give another with --port <port>, or --port 0 for a free one'
 */
export function takenPortSentence(error: unknown, option: string): string | undefined {
  if (!(error instanceof PortInUseError)) return undefined;
  return `${error.message}: give another with ${option} <port>, or ${option} 0 for a free one`;
}
