/**
 * The message of an error from the AWS SDK, with where to fix it when the SDK stopped before sending anything: its
 * own words ("Region is missing", "Could not load credentials from any providers") say what is missing, not
 * which setting gives it. Any other error's message is returned as it is.
 *
 * @example
 * process.stderr.write(`sluice produce: ${withAwsSetupHint(error)}\n`);
 * // sluice produce: Region is missing: set AWS_REGION (us-east-1, say), or a region in your AWS profile
 */
export function withAwsSetupHint(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // The emulator recipes export AWS_ENDPOINT_URL: a shell without it reaches for AWS, one with a stale port
  // reaches nothing. The SDK's words name the host, not the setting that chose it.
  const endpoint = env.AWS_ENDPOINT_URL;
  if (e?.code === 'ECONNREFUSED' && endpoint !== undefined) {
    return `${message}: nothing answers at AWS_ENDPOINT_URL (${endpoint}); start the emulator, or set the variable to the port it listens on`;
  }
  if (e?.code === 'ENOTFOUND' && endpoint === undefined && /amazonaws\.com/.test(message)) {
    return `${message}: AWS cannot be reached from here; for an emulator, export AWS_ENDPOINT_URL as its recipe does`;
  }
  if (message === 'Region is missing') {
    return `${message}: set AWS_REGION (us-east-1, say), or a region in your AWS profile`;
  }
  if (e?.name === 'CredentialsProviderError') {
    return (
      `${message}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for an emulator such as ` +
      'LocalStack), or AWS_PROFILE'
    );
  }
  return message;
}
