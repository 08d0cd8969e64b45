#!/usr/bin/env node
// The `sluice` command. Sluice ships TypeScript sources; register the TypeScript loader, then run the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv);
