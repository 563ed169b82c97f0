import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.js';

// The deployment examples are configs a bank copies: they must pass the schema of this version.
describe('deployment examples', () => {
  it('deploy/compose/config.json is a valid configuration', () => {
    const file = new URL('../../../deploy/compose/config.json', import.meta.url);
    const config = parseConfig(JSON.parse(readFileSync(file, 'utf8')), '/etc/ctp-notify');
    assert.ok(config.sinks.length > 0);
  });
});
