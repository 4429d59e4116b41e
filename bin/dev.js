#!/usr/bin/env -S node --import tsx
// Runs the CLI from TypeScript sources without a build (needs `npx tsx`).
import { execute } from '@oclif/core';
import { withholdArgvPasswords } from '../src/db/url.ts';

// As bin/run.js: oclif only ever sees URLs with their passwords masked.
process.argv.splice(0, process.argv.length, ...withholdArgvPasswords(process.argv));

await execute({ development: true, dir: import.meta.url });
