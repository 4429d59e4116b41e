#!/usr/bin/env node
import { execute } from '@oclif/core';
import { restoreWithheldUrls, withholdArgvPasswords } from '../dist/db/url.js';

// oclif prints argv under DEBUG and echoes arguments it cannot place, before
// any command runs: it only ever sees URLs with their passwords masked (the
// real ones stay in this process until the URL is parsed).
// A worker of `api serve --workers` gets its parent's withheld URLs first.
restoreWithheldUrls();
process.argv.splice(0, process.argv.length, ...withholdArgvPasswords(process.argv));

await execute({ dir: import.meta.url });
