/** docs/configuration.md lists every option of the table, nested fields included, with its client. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OptionRow } from '../../src/config/option-table';
import { OPTIONS } from '../../src/config/options';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

function names(prefix: string, rows: Readonly<Record<string, OptionRow>>, clients?: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, row] of Object.entries(rows)) {
    const full = prefix + name;
    out.push([full, clients ?? row.clients]);
    if (row.type === 'object') out.push(...names(full + '.', row.fields, clients ?? row.clients));
  }
  return out;
}

describe('docs/configuration.md', () => {
  it.each(names('', OPTIONS))('has a row for %s (%s)', (name, clients) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${name.replace(/\./g, '\\.')}\` \\| ${clients} \\|`, 'm'));
  });

  it('lists nothing the table does not have', () => {
    const known = new Set(names('', OPTIONS).map(([n]) => n));
    const listed = [...doc.matchAll(/^\| `([A-Za-z.]+)` \| (?:local|remote|both) \|/gm)].map((m) => m[1]);
    expect(listed.filter((n) => !known.has(n))).toEqual([]);
  });
});
