import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SluiceFunction } from '../../infra/SluiceFunction';
import { SluiceStack, type SluiceStackProps } from '../../infra/SluiceStack';
import { StackContextError, stackPropsFromContext } from '../../infra/stackContext';
import { TEMPORARY_TAG } from '../../lib/aws/bucketLayout';
import { findJobModules } from '../../lib/job/jobModuleFiles';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;

/** The stack's template; bundling is skipped (an empty bundling-stacks list), the deploy test bundles for real. */
function template(props: SluiceStackProps = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new SluiceStack(app, 'Test', props));
}

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** Every statement of the inline policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(t: Template, rolePrefix: string): Statement[] {
  const policies = t.findResources('AWS::IAM::Policy');
  const out: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (roles.some((r) => r.startsWith(rolePrefix))) out.push(...policy.Properties.PolicyDocument.Statement);
  }
  return out;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
/** A resource rendered as text, with CloudFormation functions flattened, so prefixes can be read. */
const show = (r: unknown) => JSON.stringify(r).replace(/\\"/g, '"');

describe('the Sluice stack', () => {
  const t = template();

  it('holds the bucket, stream, control, coordinator and worker functions, the tick, the failure queue, log groups, dashboard and alarm', () => {
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.resourceCountIs('AWS::Kinesis::Stream', 1);
    t.resourceCountIs('AWS::Lambda::Function', 3);
    t.resourceCountIs('AWS::Events::Rule', 1);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.resourceCountIs('AWS::Logs::LogGroup', 3);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    t.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 2,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it('encrypts the bucket, disables ACLs, blocks public access, requires TLS and expires temporary data', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      // ACLs disabled: the bucket owner owns every object, and no ACL (public or other) grants anything
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: 1,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            TagFilters: [{ Key: TEMPORARY_TAG.key, Value: TEMPORARY_TAG.value }],
          }),
          Match.objectLike({
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            ExpiredObjectDeleteMarker: true,
          }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it('reserves one concurrent execution for the coordinator and caps the workers', () => {
    const fns = Object.values(t.findResources('AWS::Lambda::Function'));
    const coordinator = fns.find((f) => f.Properties.Environment.Variables.SLUICE_WORKER_FUNCTION);
    const worker = fns.find((f) => f.Properties.Environment.Variables.SLUICE_STORE);
    const control = fns.find(
      (f) => f !== coordinator && f.Properties.Environment.Variables.SLUICE_COORDINATOR_FUNCTION,
    );
    expect(coordinator?.Properties.ReservedConcurrentExecutions).toBe(1);
    // the control function answers start/stop/status while the coordinator's one execution drives batches, from
    // executions of its own that a flood of events cannot grow past
    expect(control?.Properties.ReservedConcurrentExecutions).toBe(2);
    expect(worker?.Properties.ReservedConcurrentExecutions).toBe(20);
    expect(coordinator?.Properties.Environment.Variables.SLUICE_TASK_CONCURRENCY).toBe('20');
    // the cost report bills worker time at the worker's memory, the default's or the one deployed
    expect(worker?.Properties.MemorySize).toBe(1769);
    expect(coordinator?.Properties.Environment.Variables.SLUICE_WORKER_MEMORY_MB).toBe('1769');
    const smaller = Object.values(template({ workerMemoryMb: 512 }).findResources('AWS::Lambda::Function'));
    expect(smaller.find((f) => f.Properties.Environment.Variables.SLUICE_STORE)?.Properties.MemorySize).toBe(
      512,
    );
    expect(
      smaller.find((f) => f.Properties.Environment.Variables.SLUICE_WORKER_FUNCTION)?.Properties.Environment
        .Variables.SLUICE_WORKER_MEMORY_MB,
    ).toBe('512');
    expect(template({ workerConcurrency: 7 }).findResources('AWS::Lambda::Function')).toSatisfy(
      (found: Record<string, { Properties: { ReservedConcurrentExecutions?: number } }>) =>
        Object.values(found).some((f) => f.Properties.ReservedConcurrentExecutions === 7),
    );
    for (const fn of fns) {
      expect(fn.Properties.Runtime).toMatch(/^nodejs2\d\.x$/);
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('sends failed asynchronous invocations and undeliverable ticks to the queue', () => {
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] } },
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Input: JSON.stringify({ action: 'tick' }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedInvocations'), 'Arn'] } },
        }),
      ],
    });
  });

  it('lets the coordinator only send to the failure queue, as its asynchronous-invocation destination', () => {
    const sqs = statementsOf(t, 'Coordinator').filter((s) => actions(s).some((a) => a.startsWith('sqs:')));
    // Lambda sends a failed event there with the function's role; nothing in the code reads or looks up the queue
    expect(sqs.flatMap(actions)).toEqual(['sqs:SendMessage']);
    expect(sqs.flatMap(resources).map(show)).toEqual([expect.stringMatching(/FailedInvocations.*Arn/)]);
    for (const role of ['Control', 'Worker']) {
      expect(
        statementsOf(t, role)
          .flatMap(actions)
          .filter((a) => a.startsWith('sqs:')),
      ).toEqual([]);
    }
  });

  it('grants no wildcard action, and no action on a wildcard resource', () => {
    const all = ['Control', 'Coordinator', 'Worker'].flatMap((role) => statementsOf(t, role));
    expect(all.length).toBeGreaterThan(5);
    for (const s of all) {
      for (const a of actions(s)) expect(a, `${s.Sid}: ${a}`).not.toMatch(/\*/);
      for (const r of resources(s)) expect(r, `${s.Sid}`).not.toBe('*');
    }
  });

  it('lets the control function invoke only the coordinator, touch only jobs/, and check the sources', () => {
    const statements = statementsOf(t, 'Control');
    const invoke = statements.filter((s) => actions(s).some((a) => a.startsWith('lambda:')));
    expect(invoke.flatMap(actions)).toEqual(['lambda:InvokeFunction']);
    expect(invoke.flatMap(resources).map(show)).toEqual([expect.stringMatching(/CoordinatorFunction.*Arn/)]);
    const objects = statements
      .filter((s) => actions(s).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'))
      .flatMap((s) => resources(s).map(show));
    expect(objects).toEqual([expect.stringMatching(/Arn"\]\},"\/jobs\/\*"/)]);
    // a start checks that each source can be read: the stream described (no record read), input/ listed
    const kinesis = statements.filter((s) => actions(s).some((a) => a.startsWith('kinesis:')));
    expect(kinesis.flatMap(actions)).toEqual(['kinesis:DescribeStreamSummary']);
    expect(kinesis.flatMap(resources).map(show)).toEqual([expect.stringMatching(/InputStream.*Arn/)]);
    const lists = statements.filter((s) => actions(s).includes('s3:ListBucket'));
    expect(lists.map((s) => s.Condition?.StringLike?.['s3:prefix'])).toEqual([['jobs/*', 'input/*']]);
  });

  it('lets the coordinator invoke only the worker and itself', () => {
    const invoke = statementsOf(t, 'Coordinator').filter((s) =>
      actions(s).some((a) => a.startsWith('lambda:')),
    );
    expect(invoke).toHaveLength(1);
    expect(actions(invoke[0]!)).toEqual(['lambda:InvokeFunction']);
    const targets = resources(invoke[0]!).map(show);
    expect(targets).toHaveLength(2);
    expect(targets[0]).toMatch(/WorkerFunction.*Arn/);
    expect(targets[1]).toMatch(/:function:Test-coordinator"/);
    // the worker invokes nothing
    expect(
      statementsOf(t, 'Worker')
        .flatMap(actions)
        .filter((a) => /^lambda:/.test(a)),
    ).toEqual([]);
  });

  it('keeps each function to its prefixes of the bucket and to the stream', () => {
    const objectResources = (role: string) =>
      statementsOf(t, role)
        .filter((s) => actions(s).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'))
        .flatMap((s) => resources(s).map(show));
    const prefixes = (role: string) =>
      objectResources(role).map((r) => r.match(/Arn"\]\},"\/([^"]*)"/)?.[1] ?? `unparsed: ${r}`);
    expect(prefixes('Coordinator').sort()).toEqual([
      'input/*',
      'jobs/*',
      'jobs/*/store/*',
      'outputs/*',
      'static/*',
    ]);
    // the worker reads its planned input objects itself, and writes only the job stores and outputs
    expect(prefixes('Worker').sort()).toEqual([
      'input/*',
      'jobs/*/store/*',
      'jobs/*/store/*',
      'outputs/*',
      'static/*',
    ]);
    const workerWrites = statementsOf(t, 'Worker')
      .filter((s) => actions(s).includes('s3:PutObject'))
      .flatMap((s) => resources(s).map(show));
    expect(workerWrites.some((r) => /\/input\//.test(r))).toBe(false);
    for (const role of ['Coordinator', 'Worker']) {
      const lists = statementsOf(t, role).filter((s) => actions(s).includes('s3:ListBucket'));
      expect(lists).toHaveLength(1);
      expect(lists[0]!.Condition?.StringLike?.['s3:prefix']).toBeDefined();
    }
    const kinesis = statementsOf(t, 'Coordinator').filter((s) =>
      actions(s).some((a) => a.startsWith('kinesis:')),
    );
    expect(kinesis).toHaveLength(1);
    expect(resources(kinesis[0]!).map(show)).toEqual([expect.stringMatching(/InputStream.*Arn/)]);
    // exactly the calls it makes: DescribeStreamSummary to check a start's sources (sourceChecks), then
    // KinesisSource's ListShards (shardLineage), iterators and records
    expect(actions(kinesis[0]!).sort()).toEqual([
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ]);
    // the worker reads the shard ranges it is given: iterators and records of the deployment's stream, no listing
    const workerKinesis = statementsOf(t, 'Worker').filter((s) =>
      actions(s).some((a) => a.startsWith('kinesis:')),
    );
    expect(workerKinesis).toHaveLength(1);
    expect(resources(workerKinesis[0]!).map(show)).toEqual([expect.stringMatching(/InputStream.*Arn/)]);
    expect(actions(workerKinesis[0]!).sort()).toEqual(['kinesis:GetRecords', 'kinesis:GetShardIterator']);
  });

  it('lets the worker delete nothing: the coordinator and the control function clean up', () => {
    const deletes = (role: string) =>
      statementsOf(t, role).filter((s) => actions(s).some((a) => /^s3:Delete/.test(a)));
    // workers only write blocks, spilled results and output parts; every delete (a batch's blocks, a retried
    // output's folder, a reset) is the coordinator's or the control function's
    expect(deletes('Worker')).toEqual([]);
    expect(deletes('Coordinator')).toHaveLength(1);
    expect(deletes('Control')).toHaveLength(1);
  });

  it.each(['Coordinator', 'Worker'])(
    'lets the %s tag only the job stores, where its temporary data goes',
    (role) => {
      const tagging = statementsOf(t, role).filter((s) => actions(s).includes('s3:PutObjectTagging'));
      // shuffle and spill blocks of a job's store are tagged (BatchDriver, WorkerRuntime), never an output or a record
      expect(tagging.flatMap((s) => resources(s).map(show))).toEqual([
        expect.stringMatching(/Arn"\]\},"\/jobs\/\*\/store\/\*"/),
      ]);
    },
  );

  it('alarms when the total delay grows for N batches in a row, and charts every job', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Sluice',
      MetricName: 'TotalDelayGrowingFor',
      Statistic: 'Maximum',
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template({ unstableAfterBatches: 4 }).hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 4 });
    const body = show(
      Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody,
    );
    for (const metric of [
      'TotalDelay',
      'SchedulingDelay',
      'ProcessingTime',
      'TotalDelayGrowingFor',
      'RecordsIn',
      // the cost report
      'CostDollars',
      'WorkerGbSeconds',
      'CoordinatorGbSeconds',
      'WorkerInvocations',
      'CoordinatorInvocations',
      'S3WriteRequests',
      'S3ReadRequests',
      'KinesisGetRecords',
    ]) {
      expect(body).toContain(`MetricName=\\\\"${metric}\\\\"`);
    }
  });

  it('imports an existing stream by name or ARN instead of creating one', () => {
    const byName = template({ existingStreamName: 'tweets' });
    byName.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(show(byName.findResources('AWS::IAM::Policy'))).toContain(':stream/tweets');
    const arn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks';
    const byArn = template({ existingStreamArn: arn });
    byArn.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(show(byArn.findResources('AWS::IAM::Policy'))).toContain(arn);
  });

  it('leaves out exactly the functions and the tick when asked to (LocalStack without Docker)', () => {
    const bare = template({ withFunctions: false });
    bare.resourceCountIs('AWS::Lambda::Function', 0);
    bare.resourceCountIs('AWS::Events::Rule', 0);
    bare.resourceCountIs('AWS::IAM::Role', 0);
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::Kinesis::Stream',
      'AWS::SQS::Queue',
      'AWS::CloudWatch::Alarm',
    ]) {
      bare.resourceCountIs(type, 1);
    }
  });
});

describe('the stack context', () => {
  const read = (context: Record<string, unknown>) => stackPropsFromContext((key) => context[key]);

  it('reads strings from -c and JSON values from cdk.json alike', () => {
    expect(read({ 'sluice:workerConcurrency': '8', 'sluice:functions': 'false' }).props).toMatchObject({
      workerConcurrency: 8,
      withFunctions: false,
    });
    expect(read({ 'sluice:workerConcurrency': 8, 'sluice:retainData': false }).props).toMatchObject({
      workerConcurrency: 8,
      retainData: false,
    });
    expect(read({}).stackName).toBe('Sluice');
  });

  it('sets how long old versions are kept and how many control executions are reserved', () => {
    // given both settings as -c strings
    const props = read({ 'sluice:noncurrentVersionDays': '30', 'sluice:controlConcurrency': '5' }).props;
    // when the stack is made with them
    const t = template(props);
    // then the bucket keeps old versions 30 days and the control function has 5 executions of its own
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'ExpireOldVersions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ]),
      },
    });
    const control = Object.values(t.findResources('AWS::Lambda::Function')).find(
      (f) =>
        f.Properties.Environment.Variables.SLUICE_COORDINATOR_FUNCTION &&
        !f.Properties.Environment.Variables.SLUICE_WORKER_FUNCTION,
    );
    expect(control?.Properties.ReservedConcurrentExecutions).toBe(5);
    expect(() => read({ 'sluice:controlConcurrency': '0' })).toThrow(
      /sluice:controlConcurrency: expected a whole number from 1/,
    );
  });

  it('names the key at fault and what it takes', () => {
    expect(() => read({ 'sluice:workerConcurrency': 'lots' })).toThrow(StackContextError);
    expect(() => read({ 'sluice:workerConcurrency': 'lots' })).toThrow(
      /context sluice:workerConcurrency: expected a whole number from 1 to 1000, got "lots"/,
    );
    expect(() => read({ 'sluice:functions': 'no' })).toThrow(/sluice:functions: expected true or false/);
    expect(() => read({ 'sluice:streamName': 'a', 'sluice:streamArn': 'arn:x' })).toThrow(/not both/);
  });

  it('reads sluice:jobModules as a folder or a list of files, and deploys jobs/ by default when it exists', () => {
    const names = (context: Record<string, unknown>, cwd: string) =>
      stackPropsFromContext((key) => context[key], cwd).props.jobModules?.map((m) => m.name);
    expect(names({ 'sluice:jobModules': 'jobs' }, fixtures)).toEqual(['moodFunctions', 'moodJob']);
    expect(names({ 'sluice:jobModules': 'jobs/moodJob.ts' }, fixtures)).toEqual(['moodJob']);
    expect(names({}, fixtures)).toEqual(['moodFunctions', 'moodJob']);
    expect(names({}, join(fixtures, 'jobs'))).toBeUndefined();
    expect(() => read({ 'sluice:jobModules': 'no-such-folder' })).toThrow(
      /context sluice:jobModules: expected modules to deploy: no-such-folder does not exist/,
    );
  });
});

describe('the functions with job modules', () => {
  const t = template();

  it('hand every function the modules, and bundle them with the local esbuild', async () => {
    // given the stack with the fixture's job modules, bundling skipped: all three functions get them
    const jobModules = findJobModules(join(fixtures, 'jobs'), '/');
    const functions = Object.values(template({ jobModules }).findResources('AWS::Lambda::Function'));
    expect(functions.map((f) => f.Properties.Environment.Variables.SLUICE_JOB_MODULES)).toEqual([
      'moodFunctions,moodJob',
      'moodFunctions,moodJob',
      'moodFunctions,moodJob',
    ]);
    expect(
      Object.values(t.findResources('AWS::Lambda::Function')).map(
        (f) => f.Properties.Environment.Variables.SLUICE_JOB_MODULES,
      ),
    ).toEqual([undefined, undefined, undefined]);
    // when a function is synthesized with bundling, as cdk deploy does it
    const outdir = await mkdtemp(join(tmpdir(), 'sluice-bundle-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Bundled');
      new SluiceFunction(stack, 'Worker', {
        handler: 'worker',
        memoryMb: 256,
        timeout: Duration.seconds(30),
        environment: {},
        jobModules,
      });
      app.synth();
      // then its bundle holds the handler, each module's own code, the npm package a module imports, and the
      // registration of the modules by name; no loader that imports user code by path
      const asset = (await readdir(outdir)).find((name) => name.startsWith('asset.'));
      const bundle = await readFile(join(outdir, asset!, 'index.js'), 'utf8');
      expect(bundle).toContain('deployModules({');
      expect(bundle).toMatch(/deployModules\(\{\s+"moodFunctions": \w+,\s+"moodJob": \w+\s+\}\)/);
      expect(bundle).toContain('new Set(["never", "not", "no", "but"])');
      expect(bundle).toContain('PutObjectCommand');
      expect(bundle).toMatch(/WorkerRuntime = class/);
      expect(bundle).not.toMatch(/require\("esbuild"\)/);
      expect(bundle).toContain('import("tsx/esm/api")');
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
