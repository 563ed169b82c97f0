import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configFields, configReference } from '../../src/config/config-reference.js';
import { ConfigSchema } from '../../src/config/config-schema.js';
import { isSecretRefSchema } from '../../src/config/secret-ref.js';

// docs/configuration.md is generated from the schema's descriptions: these tests keep it from
// drifting, and keep a new field from arriving without its documentation.

interface Node {
  type?: string;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
}

/** True when `s` (or its items, or a variant) is an object with members of its own. */
function holdsFields(s: Node): boolean {
  return (
    s.type === 'object' ||
    (s.items !== undefined && holdsFields(s.items)) ||
    (s.anyOf ?? []).some(holdsFields)
  );
}

/**
 * Every field holding a value (a secret reference is one value), wherever it sits: object
 * members, array items, union variants. Walked apart from the generator, so a field it skipped
 * would still be found.
 */
function leafFields(s: Node, at = ''): [string, Node][] {
  const out: [string, Node][] = [];
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    if (isSecretRefSchema(sub) || !holdsFields(sub)) out.push([`${at}/${k}`, sub]);
    out.push(...leafFields(sub, `${at}/${k}`));
  }
  if (s.items) out.push(...leafFields(s.items, `${at}/*`));
  for (const v of s.anyOf ?? []) out.push(...leafFields(v, at));
  return out;
}

describe('configuration reference', () => {
  it('docs/configuration.md is generated from the schema (run `npm run docs:config` after changing it)', () => {
    const committed = readFileSync(
      new URL('../../../docs/configuration.md', import.meta.url),
      'utf8',
    );
    assert.ok(
      committed === configReference(),
      'docs/configuration.md is stale: run `npm run docs:config`',
    );
  });

  it('every leaf field of the configuration schema has a description', () => {
    const leaves = leafFields(ConfigSchema as Node);
    assert.ok(leaves.length > 100, `only ${leaves.length} leaf fields found`);
    const undocumented = [
      ...new Set(leaves.filter(([, s]) => (s.description ?? '').trim() === '').map(([at]) => at)),
    ];
    assert.deepEqual(undocumented, [], 'give these fields a description in the schema');
    const blankRows = configFields()
      .filter((f) => f.leaf && f.description.trim() === '')
      .map((f) => f.path);
    assert.deepEqual(blankRows, []);
  });

  it('shows secret references, file paths, defaults, constraints and union variants', () => {
    const byPath = new Map(configFields().map((f) => [f.path, f]));
    const row = (path: string) => {
      const f = byPath.get(path);
      assert.ok(f, `no row for ${path}`);
      return f;
    };
    assert.equal(row('auth.xPayToken.sharedSecret').type, 'secret reference');
    assert.equal(row('dataProtection.keys').type, 'array of secret reference');
    assert.equal(row('dataProtection.keys[].id').default, 'required');
    assert.equal(row('listen.tls.cert').type, 'file path (relative to the config file)');
    assert.equal(row('listen.port').default, '`8443`');
    assert.equal(row('listen.port').constraints, '0–65535');
    assert.equal(row('workers').default, 'optional');
    assert.equal(row('storage.url').default, 'required');
    assert.equal(row('sinks[].type').type, '`"webhook"` | `"rabbitmq"`');
    assert.equal(row('sinks[].name').leaf, true);
    assert.equal(row('sinks[] (type "webhook").caFile').default, 'optional');
    assert.equal(row('sinks[] (type "rabbitmq").exchange').default, '`"ctp-notify"`');
    assert.equal(row('directory (type "http").url').leaf, true);
    assert.match(row('risk.rules').constraints, /keys: CARD_UNKNOWN, /);
    assert.equal(row('risk.rules.<key>.weight').constraints, '0–100');
    assert.equal(row('log.level').type.split(' | ').length, 7);
  });
});
