import { UiServer } from '../ui/UiServer';
import { AwsMetricsUiSource } from './AwsMetricsUiSource';
import { s3Client } from './awsClients';
import { S3BlockStore } from './S3BlockStore';

/**
 * `sluice ui --bucket B --job J`: serves the Streaming UI of a job on AWS (or on LocalStack, with
 * `AWS_ENDPOINT_URL`) from the metrics its coordinator keeps, until Ctrl-C. Checks first that the job exists, so
 * a wrong name is a sentence, not an empty page. `tune`: the page of a `sluice tune` search beside it (`--tune`).
 */
export async function serveAwsUi(
  opts: { readonly bucket: string; readonly job: string; readonly port: number },
  log: (text: string) => void,
  tune?: object,
): Promise<UiServer> {
  const source = new AwsMetricsUiSource(
    new S3BlockStore({ client: s3Client(), bucket: opts.bucket }),
    opts.job,
  );
  await source.summary();
  const server = await UiServer.start(source, opts.port, tune);
  log(`Streaming UI of ${opts.job} (s3://${opts.bucket}/jobs/${opts.job}/, read-only) at ${server.url}\n`);
  return server;
}
