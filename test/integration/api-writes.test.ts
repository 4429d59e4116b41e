/**
 * Differential tests of the write routes of `placement-upgrade api serve`
 * against the real placement 8.0.0 (Debian, uwsgi, noauth2): each sequence
 * of writes runs on two identical fresh databases, one per service; every
 * answer must read the same to a Python client and the rows the sequence
 * touched must be the same. Required in CI.
 *
 * One pair of databases and services per engine, shared by the sequences
 * (each in names and uuids of its own): a uwsgi start per sequence would
 * cost more than all the requests together.
 *
 * PU_API_WRITES_OURS=real puts real placement on both sides, which proves
 * the sequences and the comparison (nothing may differ then);
 * PU_API_WRITES_ONLY=regex narrows the sequences by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realPlacementServiceForTests } from '../helpers/api-services.js';
import { WRITE_SEQUENCES } from '../helpers/api-write-sequences.js';
import {
  allRowDifferences,
  formatReport,
  runSequence,
  startWritePair,
  type WritePair,
} from '../helpers/api-writes.js';
import { testEngines } from '../helpers/databases.js';

const available = realPlacementServiceForTests();
if (!available) {
  process.stderr.write('\n!! uwsgi or placement-api is missing: API write tests are SKIPPED\n\n');
}

const oursIs = process.env['PU_API_WRITES_OURS'] === 'real' ? 'real' : 'ours';
const only = process.env['PU_API_WRITES_ONLY'];
const sequences = WRITE_SEQUENCES.map((s, i) => ({
  s,
  tag: `q${String(i).padStart(2, '0')}z`,
})).filter(({ s }) => !only || new RegExp(only, 'i').test(s.name));

describe.runIf(available).each(testEngines())(
  'api serve writes as placement 8.0.0 on %s',
  (engine) => {
    let pair: WritePair;

    beforeAll(async () => {
      pair = await startWritePair(engine, { oursIs });
    }, 120_000);

    afterAll(async () => {
      await pair?.stop();
    });

    it.each(sequences.map(({ s, tag }) => [s.name, s, tag] as const))(
      '%s',
      async (_name, seq, tag) => {
        const report = await runSequence(pair, seq, tag);
        expect(formatReport(report, engine)).toBe('');
      },
    );

    // Rows no sequence owns: the start-up sync, the incomplete consumers' project and user.
    it.runIf(!only)('every row, once all sequences ran', async () => {
      expect((await allRowDifferences(pair)).join('\n')).toBe('');
    });
  },
);
