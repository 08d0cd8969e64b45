// A function's child process starts from plain JavaScript: register the TypeScript loader, then serve the
// host's invocations with the handler module (TypeScript or JavaScript) and export named on the command line.
import { register } from 'tsx/esm/api';

register();
const { serveInvocations } = await import('./LambdaRunner.ts');
await serveInvocations(process.argv[2], process.argv[3]);
