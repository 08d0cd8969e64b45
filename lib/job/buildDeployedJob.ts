import type { JobIssue } from '../errors';
import { JobValidationError } from '../errors';
import type { StreamingContext } from '../StreamingContext';
import { type BuildJobOptions, buildJob } from './buildJob';
import { type DeployedModules, MODULE_NAME } from './DeployedModules';
import { contextFromModule, jobExportOf } from './JobModule';
import { JOB_NAME, JOB_NAME_RULE } from './jobName';

/**
 * The job document of a TypeScript job on the serverless runtime: the job is the module's code, deployed with the
 * functions (`sluice:jobModules`), so the document only names it.
 *
 * @example
 * { "name": "moods", "module": "moodJob" }
 */
export interface ModuleJobDocument {
  /** The job's name (it names S3 keys: letters, digits, `_ . -`). */
  readonly name: string;
  /** The deployed module: its file name without folder and extension. */
  readonly module: string;
  /** The export holding the job (`defineJob(...)`); a dotted name reaches into an object. Default `default`. */
  readonly export?: string;
}

const MODULE_JOB_FIELDS = new Set(['$schema', 'name', 'module', 'export']);

/** True for a document that names a TypeScript job module rather than describing a JSON job. */
export function isModuleJobDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'module' in doc;
}

/** Settings of {@link buildDeployedJob}: those of `buildJob` (but its modules, which are required here). */
export type BuildDeployedJobOptions = Omit<BuildJobOptions, 'deployedModules'> & {
  /** The modules deployed with the functions; a document names one, and nothing else loads. */
  readonly deployedModules: DeployedModules;
};

/**
 * Builds a job document on the serverless runtime, where the user's code is what was deployed with the
 * functions: a document with `module` runs that TypeScript job module, and a JSON job's `functions` names a
 * deployed functions module. A module that was not deployed, like any other problem, throws a
 * `JobValidationError` with the JSON path at fault, so the control function refuses the document at the edge.
 */
export async function buildDeployedJob(
  doc: unknown,
  options: BuildDeployedJobOptions,
): Promise<StreamingContext> {
  if (!isModuleJobDocument(doc)) {
    refuseLocalOnlySources(doc);
    return buildJob(doc, options);
  }
  const job = validateModuleJob(doc as Record<string, unknown>);
  const exports = options.deployedModules.get(job.module, 'module');
  const name = job.export ?? 'default';
  const jobModule = jobExportOf(exports, name);
  if (jobModule === undefined) {
    const jobs = Object.keys(exports).filter((key) => jobExportOf(exports, key) !== undefined);
    throw new JobValidationError([
      {
        path: job.export === undefined ? 'module' : 'export',
        message: `the module ${job.module} has no job export named ${name}${
          jobs.length > 0 ? `; its jobs: ${jobs.join(', ')}` : ''
        } (export a job made with defineJob(options, build))`,
        value: name,
      },
    ]);
  }
  const cloud = {
    ...(options.kinesisSource ? { kinesisSource: options.kinesisSource } : {}),
    ...(options.s3PrefixSource ? { s3PrefixSource: options.s3PrefixSource } : {}),
  };
  return contextFromModule(jobModule, cloud);
}

/**
 * The batch interval of a job document without building it: a JSON job's `batchIntervalMs`, or the deployed
 * module's `options.batchIntervalMs`. Undefined when the document does not say (it is then refused when built).
 */
export function batchIntervalOf(doc: unknown, modules: DeployedModules): number | undefined {
  if (!isModuleJobDocument(doc)) {
    const ms = (doc as { batchIntervalMs?: unknown } | null)?.batchIntervalMs;
    return typeof ms === 'number' ? ms : undefined;
  }
  try {
    const job = validateModuleJob(doc as Record<string, unknown>);
    return jobExportOf(modules.get(job.module, 'module'), job.export)?.options.batchIntervalMs;
  } catch {
    return undefined;
  }
}

/**
 * Source types that read this machine (a folder) or open a connection the document names (a socket). On Lambda
 * a folder is an empty, per-container `/tmp`, and a socket would let a job document make the coordinator
 * connect wherever it says, with the function's network position: both are refused at the edge, with the path.
 */
const LOCAL_ONLY_SOURCES: Readonly<Record<string, string>> = {
  socket: 'a socket source would make the coordinator open the connection the document names',
  textFileStream: 'a folder source reads a folder of the machine it runs on, and a Lambda function has none',
};

function refuseLocalOnlySources(doc: unknown): void {
  const sources = (doc as { sources?: unknown } | null)?.sources;
  if (typeof sources !== 'object' || sources === null) return; // the schema names what is missing
  const issues: JobIssue[] = [];
  for (const [name, spec] of Object.entries(sources)) {
    const type = (spec as { type?: unknown } | null)?.type;
    const why =
      typeof type === 'string' && Object.hasOwn(LOCAL_ONLY_SOURCES, type)
        ? LOCAL_ONLY_SOURCES[type]
        : undefined;
    if (why) {
      issues.push({
        path: `sources.${name}.type`,
        message: `${type} sources run only in local mode: ${why}; on AWS read a kinesis or s3Prefix source`,
        value: type,
      });
    }
  }
  if (issues.length > 0) throw new JobValidationError(issues);
}

function validateModuleJob(doc: Record<string, unknown>): ModuleJobDocument {
  const issues: JobIssue[] = [];
  const text = (field: 'name' | 'module' | 'export', pattern: RegExp, expected: string) => {
    const value = doc[field];
    if (typeof value !== 'string' || !pattern.test(value)) {
      issues.push({ path: field, message: `must be ${expected}`, value });
    }
  };
  text('name', JOB_NAME, JOB_NAME_RULE);
  text('module', MODULE_NAME, 'the name of a deployed module (its file name)');
  if (doc.export !== undefined) text('export', /^[A-Za-z_$][\w$.]{0,199}$/, 'the name of an export');
  for (const field of Object.keys(doc)) {
    if (!MODULE_JOB_FIELDS.has(field)) {
      issues.push({
        path: field,
        message:
          'a job document that names a module holds only name, module and export: the job itself is in the module',
      });
    }
  }
  if (issues.length > 0) throw new JobValidationError(issues);
  return doc as unknown as ModuleJobDocument;
}
