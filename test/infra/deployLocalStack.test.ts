import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../../lib/aws/KinesisProducer';
import { type LocalFunctions, startLocalFunctions } from '../../lib/devhost/localFunctions';
import { LOCALSTACK_ENDPOINT } from '../aws/localstack';
import { freePort } from '../helpers/freePort';
import { Deployment, until } from './deployment';
import { canonical, tweets, tweetsPerUser } from './tweetExpectations';

/**
 * The stack on LocalStack 4.14.0 in host mode, which cannot run Lambda without Docker: deployed with
 * `-c sluice:functions=false`, which leaves out only the functions and their tick, and then run the README's
 * host-mode way, with the same handlers served by `sluice lambda-host` (here `startLocalFunctions`, which the
 * command calls) against the deployed bucket and stream.
 */

const config = {
  endpoint: LOCALSTACK_ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
let deployment: Deployment;

beforeAll(async () => {
  deployment = new Deployment(
    LOCALSTACK_ENDPOINT,
    `SluiceLs${process.pid.toString(36)}`,
    join(tmpdir(), `sluice-deploy-ls-${process.pid}`),
    { 'sluice:functions': 'false', 'sluice:retainData': 'false' },
  );
  await deployment.deploy();
}, 600_000);

describe('the CDK stack on LocalStack without its functions', () => {
  it('deploys everything but the functions: an encrypted, versioned, private bucket, the stream, the queue, the alarm', async () => {
    const cfn = new CloudFormationClient(config);
    const resources = await cfn.send(new DescribeStackResourcesCommand({ StackName: deployment.stackName }));
    const types = new Set(resources.StackResources?.map((r) => r.ResourceType));
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::Kinesis::Stream',
      'AWS::SQS::Queue',
      'AWS::CloudWatch::Alarm',
    ])
      expect(types, type).toContain(type);
    expect(types).not.toContain('AWS::Lambda::Function');
    expect(types).not.toContain('AWS::Events::Rule');

    const Bucket = deployment.output('BucketName');
    const encryption = await deployment.s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe('AES256');
    const block = await deployment.s3.send(new GetPublicAccessBlockCommand({ Bucket }));
    expect(block.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    // Versioned, and the runtime's conditional writes (lease, checkpoint, input blocks) work on it: the job below
    // runs on this bucket.
    const versioning = await deployment.s3.send(new GetBucketVersioningCommand({ Bucket }));
    expect(versioning.Status).toBe('Enabled');
    // LocalStack's CloudFormation accepts the lifecycle rules but does not apply them (its bucket provider has no
    // lifecycle handling), as ministack does not: the template test is what checks them.
    await expect(
      deployment.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
    ).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration' });

    const alarms = await new CloudWatchClient(config).send(new DescribeAlarmsCommand({}));
    expect(alarms.MetricAlarms?.map((a) => [a.MetricName, a.Threshold])).toContainEqual([
      'TotalDelayGrowingFor',
      10,
    ]);
  });

  describe('with the functions served by the Lambda host', () => {
    let functions: LocalFunctions;
    let lambda: Deployment;

    beforeAll(async () => {
      functions = await startLocalFunctions({
        bucket: deployment.output('BucketName'),
        stream: deployment.output('StreamName'),
        port: await freePort(),
        tickMs: 0,
        coordinatorTimeoutMs: 30_000,
        output: () => {},
      });
      // the same helper, with its Lambda client pointed at the host
      lambda = Object.assign(Object.create(Object.getPrototypeOf(deployment)), deployment, {
        lambda: new LambdaClient({
          ...config,
          endpoint: functions.url,
          requestHandler: new NodeHttpHandler(),
        }),
      }) as Deployment;
    }, 60_000);

    afterAll(async () => {
      await functions?.stop();
    });

    it('runs events/aws/start-session-counts.json on tweets put into the deployed stream', async () => {
      const start = JSON.parse(
        readFileSync(new URL('../../events/aws/start-session-counts.json', import.meta.url), 'utf8'),
      );
      expect(await lambda.invoke('control', start)).toMatchObject({ ok: true, state: 'running' });
      const input = tweets(300, 3);
      await new KinesisProducer({
        client: deployment.kinesis,
        streamName: deployment.output('StreamName'),
      }).put(input.map((t) => JSON.stringify(t)));
      const expected = JSON.stringify(tweetsPerUser(input));
      await until(
        'every user’s running count',
        async () => {
          const batches = await deployment.jsonlBatches('session-counts/users');
          return batches.some((b) => JSON.stringify(canonical(b.records as [string, number][])) === expected)
            ? true
            : undefined;
        },
        180_000,
      );
      // stopping while the coordinator finishes its batch, stopped once it let go of the job
      const stopped = await lambda.invoke('control', { action: 'stop', job: 'session-counts' });
      expect(['stopping', 'stopped']).toContain(stopped.state);
      await until(
        'the job to stop',
        async () =>
          (await lambda.invoke('control', { action: 'status', job: 'session-counts' })).state === 'stopped'
            ? true
            : undefined,
        60_000,
      );
    }, 300_000);
  });

  it('is destroyed', async () => {
    await deployment.destroy();
  }, 300_000);
});
