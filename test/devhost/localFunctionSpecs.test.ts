import { describe, expect, it } from 'vitest';
import { FUNCTION_TIMEOUT_MS } from '../../lib/aws/deploymentContract';
import { localFunctionSpecs } from '../../lib/devhost/localFunctions';
import { parseCoordinatorTimeoutSeconds } from '../../lib/local/cli/optionParsers';

/**
 * The functions `sluice lambda-host` serves get the stack's timeouts: a coordinator that the host killed after 60 s,
 * where the stack gives it 300 s, handed over five times as often and, on a loaded machine, was killed in the
 * middle of a batch.
 */
describe('the functions of sluice lambda-host', () => {
  it("give the coordinator the stack's timeout by default", () => {
    // when the host is started without a timeout
    const specs = localFunctionSpecs({ bucket: 'b', stream: 's' });
    // then each function times out as in the stack
    expect(specs.coordinator?.timeoutMs).toBe(FUNCTION_TIMEOUT_MS.coordinator);
    expect(specs.worker?.timeoutMs).toBe(FUNCTION_TIMEOUT_MS.worker);
    expect(specs.control?.timeoutMs).toBe(FUNCTION_TIMEOUT_MS.control);
  });

  it('give the coordinator the timeout the stack was deployed with', () => {
    // given --coordinator-timeout 120, as sluice:coordinatorTimeoutSeconds=120
    const seconds = parseCoordinatorTimeoutSeconds('120');
    // when the host is started with it
    const specs = localFunctionSpecs({ bucket: 'b', stream: 's', coordinatorTimeoutMs: seconds * 1000 });
    // then the coordinator times out after 120 s
    expect(specs.coordinator?.timeoutMs).toBe(120_000);
  });

  it('refuse a timeout the stack refuses', () => {
    // when a timeout outside sluice:coordinatorTimeoutSeconds' range is given
    // then it is refused with the range
    expect(() => parseCoordinatorTimeoutSeconds('20')).toThrow(
      'expected a whole number of seconds from 30 to 900, got 20',
    );
    expect(() => parseCoordinatorTimeoutSeconds('1.5')).toThrow('from 30 to 900');
  });
});
