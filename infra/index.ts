/**
 * The package's CDK construct library, what `import { ... } from 'sluice/cdk'` gives: the stack a user's own CDK
 * app deploys (`new SluiceStack(app, 'Sluice', { ... })`), the reader of the `sluice:*` context options that
 * `infra/app.ts` uses, and the constructs the stack is made of. It needs `aws-cdk-lib` and `constructs` (peer
 * dependencies of the package), which `import 'sluice'` never loads.
 */

export { findJobModules, type JobModuleFile } from '../lib/job/jobModuleFiles';
export { ControlFunction, type ControlFunctionProps } from './ControlFunction';
export { CoordinatorFunction, type CoordinatorFunctionProps } from './CoordinatorFunction';
export { DataBucket, type DataBucketProps } from './DataBucket';
export { InputStream, type InputStreamProps } from './InputStream';
export { JobMonitoring, type JobMonitoringProps } from './JobMonitoring';
export { SluiceFunction, type SluiceFunctionProps } from './SluiceFunction';
export { SluiceStack, type SluiceStackProps } from './SluiceStack';
export { CONTEXT_KEYS, StackContextError, stackPropsFromContext } from './stackContext';
export { Watchdog, type WatchdogProps } from './Watchdog';
