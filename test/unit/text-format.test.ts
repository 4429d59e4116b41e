/**
 * The text layouts that playbooks parse, compared with the Python that
 * placement-manage and placement-status really run (textwrap, prettytable,
 * json.dumps). Python is installed wherever the real placement is (CI).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prettyTable } from '../../src/text/pretty-table.js';
import { pythonJsonDumps } from '../../src/text/python-json.js';
import { wrap } from '../../src/text/textwrap.js';

const PYTHON = '/usr/bin/python3';
const hasPython = existsSync(PYTHON);

function python(script: string, input: unknown): unknown {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }),
  );
}

const TEXTS = [
  'There is at least one resource provider table record which misses its root provider id. Run the "placement-manage db online_data_migrations" command.',
  'There are 12345 incomplete consumers table records for existing allocations. Run the "placement-manage db online_data_migrations" command.',
  'Your policy file is JSON-formatted which is deprecated. You need to switch to YAML-formatted file. Use the ``oslopolicy-convert-json-to-yaml`` tool to convert the existing JSON-formatted files to YAML in a backwards-compatible manner: https://docs.openstack.org/oslo.policy/latest/cli/oslopolicy-convert-json-to-yaml.html.',
  'short',
  '',
  '   leading and trailing spaces   ',
  'tabs\tinside\tthe\ttext and\nnew lines\r\nand\x0bvertical\x0cfeeds',
  'a-very-long-hyphenated-identifier-that-goes-on-and-on-and-on-well-past-sixty-characters-wide',
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'em--dashes -- between words--and--more -b options and --long-options=value self-evident',
  'Provider compute-01.example.org (3f1c0a1e-5b7e-4f0a-9c1d-2b6e8f7a9d10): VCPU used 130 of capacity 128.0; MEMORY_MB used 600000 of 524288.0',
  'Unicode: résumé naïve café — 東京 コンピュート ノード with Ünïcödé names and emoji 🚀 in the middle of the text',
  'Run: placement-upgrade db sync --placement-config /etc/placement/placement.conf --revision 2023.2 (after placement-upgrade db online-data-migrations)',
  'UPDATE resource_providers SET root_provider_id = id WHERE root_provider_id IS NULL AND parent_provider_id IS NULL;',
  '----- leading hyphens ----- and -x- y-z ab-cd-ef 1-2-3 a1-b2',
];

describe.skipIf(!hasPython)('wrap matches Python textwrap.wrap', () => {
  for (const width of [60, 20, 7, 3]) {
    it(`width ${width}, subsequent indent of two spaces`, () => {
      const expected = python(
        `import json,sys,textwrap\nprint(json.dumps([textwrap.wrap(t, ${width}, subsequent_indent='  ') for t in json.load(sys.stdin)]))`,
        TEXTS,
      );
      expect(TEXTS.map((t) => wrap(t, width, { subsequentIndent: '  ' }))).toEqual(expected);
    });
  }
});

describe.skipIf(!hasPython)('prettyTable matches prettytable', () => {
  it('centred, frame rules (placement-manage)', () => {
    const rows = [
      ['set_root_provider_ids', 12, 12],
      ['create_incomplete_consumers', 123456, 0],
      ['x', 1, 22],
      ['東京-café-🚀', 7, 8],
    ];
    const expected = python(
      `import json,sys,prettytable\nt=prettytable.PrettyTable(['Migration','Total Found','Completed'])\nfor r in json.load(sys.stdin): t.add_row(r)\nprint(json.dumps(str(t)))`,
      rows,
    );
    expect(prettyTable(['Migration', 'Total Found', 'Completed'], rows)).toBe(expected);
  });

  it('left-aligned, multi-line cells, rule after every row (oslo.upgradecheck)', () => {
    const rows = [
      ['Check: A\nResult: Success\nDetails: None'],
      ['Check: Longer title\nResult: Failure\nDetails: one\n  two three'],
    ];
    const expected = python(
      `import json,sys,prettytable\nt=prettytable.PrettyTable(['Upgrade Check Results'], hrules=prettytable.ALL)\nt.align='l'\nfor r in json.load(sys.stdin): t.add_row(r)\nprint(json.dumps(str(t)))`,
      rows,
    );
    expect(prettyTable(['Upgrade Check Results'], rows, { align: 'l', hrules: 'all' })).toBe(
      expected,
    );
  });

  it('an empty table', () => {
    const expected = python(
      `import json,prettytable\nprint(json.dumps(str(prettytable.PrettyTable(['Migration','Total Found','Completed']))))`,
      null,
    );
    expect(prettyTable(['Migration', 'Total Found', 'Completed'], [])).toBe(expected);
  });
});

describe.skipIf(!hasPython)('pythonJsonDumps matches json.dumps', () => {
  it('escapes and separators', () => {
    const value = {
      name: 'Upgrade Check Results',
      checks: [
        { check: 'A "quoted" \\ check', result: 0, details: null },
        { check: 'Ünïcödé 東京 🚀 \u007f \u0001', result: 2, details: 'line\nbreak\ttab' },
      ],
    };
    const expected = execFileSync(
      PYTHON,
      ['-c', 'import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin)))'],
      { input: JSON.stringify(value), encoding: 'utf8' },
    );
    expect(pythonJsonDumps(value)).toBe(expected);
  });
});
