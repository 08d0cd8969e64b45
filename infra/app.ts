import { App } from 'aws-cdk-lib';
import { SluiceStack } from './SluiceStack';
import { StackContextError, stackPropsFromContext } from './stackContext';

// The CDK app of `cdk.json`: one Sluice stack, configured through context (see stackContext.ts and the README).
const app = new App();
try {
  const { stackName, props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
  new SluiceStack(app, stackName, {
    ...props,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  if (!(error instanceof StackContextError)) throw error;
  process.stderr.write(`sluice: ${error.message}\n`);
  process.exit(2);
}
