import { describe, expect, it } from 'vitest';
import { withAwsSetupHint } from '../../lib/aws/awsSetupHint';

/** An error as Node's sockets give it to the SDK, which passes it on. */
const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('withAwsSetupHint', () => {
  it('names AWS_ENDPOINT_URL when nothing answers at the address it gives', () => {
    // given a refused connection, with the endpoint a recipe exported
    const error = socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4566');
    // then the message says which setting chose that address and what to do
    expect(withAwsSetupHint(error, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(
      'connect ECONNREFUSED 127.0.0.1:4566: nothing answers at AWS_ENDPOINT_URL (http://127.0.0.1:4566); start ' +
        'the emulator, or set the variable to the port it listens on',
    );
  });

  it('points at AWS_ENDPOINT_URL when AWS itself cannot be reached and none is set', () => {
    // given a shell without the recipe's exports, on a machine that cannot reach AWS
    const error = socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND s3.us-east-1.amazonaws.com');
    // then the message says how to reach an emulator instead
    expect(withAwsSetupHint(error, {})).toBe(
      'getaddrinfo ENOTFOUND s3.us-east-1.amazonaws.com: AWS cannot be reached from here; for an emulator, export ' +
        'AWS_ENDPOINT_URL as its recipe does',
    );
  });

  it('leaves any other error as it is', () => {
    // given a refusal without an endpoint set, and an error of the service
    const refused = socketError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443');
    const noBucket = Object.assign(new Error('The specified bucket does not exist'), {
      name: 'NoSuchBucket',
    });
    // then their messages are unchanged
    expect(withAwsSetupHint(refused, {})).toBe('connect ECONNREFUSED 10.0.0.1:443');
    expect(withAwsSetupHint(noBucket, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe(
      'The specified bucket does not exist',
    );
  });
});
