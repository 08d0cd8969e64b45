// A function's child process starts from plain JavaScript: load the runner beside this file (compiled or
// TypeScript), then serve the host's invocations with the handler module and export named on the command line.
import { importEntry } from '../local/importEntry.mjs';

const { serveInvocations } = await importEntry(import.meta.url, 'LambdaRunner');
await serveInvocations(process.argv[2], process.argv[3]);
