#!/usr/bin/env -S node --import tsx
// Runs the CLI from TypeScript sources without a build (needs `npx tsx`).
import { execute } from '@oclif/core';

await execute({ development: true, dir: import.meta.url });
