import { basename, extname } from 'node:path';
import { JobValidationError } from '../errors';

/** Host mode deploys no functions: there the modules are what `sluice lambda-host` was given. */
const HOST_MODE_HINT = '; in host mode, to sluice lambda-host --modules';

/** A module's exports, as `import * as m` gives them. */
export type ModuleExports = Readonly<Record<string, unknown>>;

/**
 * The user modules deployed with the serverless functions (TypeScript job modules and JSON jobs' `functions`
 * modules), by name. The CDK app bundles each module into the coordinator and the worker with a small generated
 * entry that imports it statically and registers it here (`handlerEntrySource`), so a job document can only
 * name code that was deployed: nothing is ever imported from a path an event carries.
 *
 * @example
 * // the generated entry of a function
 * import * as moodJob from '/project/jobs/moodJob.ts';
 * deployModules({ moodJob });
 * export { handler } from '/project/node_modules/sluice/functions/worker.ts';
 */
export class DeployedModules {
  private readonly modules = new Map<string, ModuleExports>();

  /** Adds modules by name; a name given twice is refused, as two files of one name cannot both be deployed. */
  add(modules: Readonly<Record<string, ModuleExports>>): this {
    for (const [name, exports] of Object.entries(modules)) {
      checkModuleName(name);
      if (this.modules.has(name)) {
        throw new RangeError(`two deployed modules are named ${name}: module names must be unique`);
      }
      this.modules.set(name, exports);
    }
    return this;
  }

  /** The deployed module names, sorted. */
  get names(): string[] {
    return [...this.modules.keys()].sort();
  }

  /**
   * The module a job document names at `path` (`module`, `functions`). A module that was not deployed throws a
   * `JobValidationError` there, with the modules that were.
   */
  get(name: string, path: string): ModuleExports {
    const exports = this.modules.get(name);
    if (exports !== undefined) return exports;
    const deployed = this.names;
    throw new JobValidationError([
      {
        path,
        message:
          deployed.length === 0
            ? `no module named ${JSON.stringify(name)} was deployed: this deployment has no job modules (deploy them with the CDK context option sluice:jobModules${HOST_MODE_HINT})`
            : `no module named ${JSON.stringify(name)} was deployed; deployed modules: ${deployed.join(', ')} (add it to the CDK context option sluice:jobModules and deploy again${HOST_MODE_HINT})`,
        value: name,
      },
    ]);
  }
}

/** The modules of this process's functions: the generated entry fills it before the first invocation. */
export const deployedModules = new DeployedModules();

/** Registers modules under their names; what a function's generated entry calls. */
export function deployModules(modules: Readonly<Record<string, ModuleExports>>): void {
  deployedModules.add(modules);
}

/** A module's name: its file name without folder and extension (`jobs/moodJob.ts` is `moodJob`). */
export function moduleNameOf(file: string): string {
  return basename(file, extname(file));
}

/** Module names become identifiers in generated code and keys in job documents: keep them plain. */
export const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;

function checkModuleName(name: string): void {
  if (!MODULE_NAME.test(name)) {
    throw new RangeError(
      `${JSON.stringify(name)} cannot name a deployed module: use letters, digits, _ and -, starting with a letter or _`,
    );
  }
}
