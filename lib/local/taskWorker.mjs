// Worker threads start from plain JavaScript: load the real worker beside this file, compiled or TypeScript.
import { importEntry } from './importEntry.mjs';

await importEntry(import.meta.url, 'TaskWorker');
