#!/usr/bin/env node
// The `sluice` command: the CLI beside this file, compiled (the installed package) or TypeScript (a checkout).
import { importEntry } from './importEntry.mjs';

const { main } = await importEntry(import.meta.url, 'cli');
process.exitCode = await main(process.argv);
