import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_STATUSES } from '../../src/domain/alert-statuses.js';
import { CARD_STATUSES } from '../../src/domain/card-statuses.js';
import {
  CARDHOLDER_ANSWERS,
  CASE_NOTE_KINDS,
  CASE_OPENERS,
  CASE_STATUSES,
  DISPOSITIONS,
} from '../../src/domain/case-codes.js';
import {
  DELIVERY_EVENTS,
  DELIVERY_ORIGINS,
  DELIVERY_STATUSES,
  MESSAGE_KINDS,
} from '../../src/domain/delivery-codes.js';
import { NOTIFICATION_STATUSES } from '../../src/domain/notification-statuses.js';
import { RISK_LEVELS } from '../../src/domain/risk-codes.js';
import { OPERATOR_SOURCES, ROLES } from '../../src/domain/roles.js';
import { openStore } from '../../src/storage/open-store.js';
import { dialects } from '../support/databases.js';
import { rawSql } from '../support/raw-sql.js';

/**
 * Every `column IN (…)` CHECK of the migrated schema, against the vocabulary's list. The
 * migrations spell their lists as they shipped (a shipped migration never changes), so a value
 * added to a list in src/domain/ fails here until a new migration widens the constraint.
 */
const EXPECTED: Record<string, readonly string[]> = {
  'notifications.status': NOTIFICATION_STATUSES,
  'deliveries.origin': DELIVERY_ORIGINS,
  'deliveries.status': DELIVERY_STATUSES,
  'deliveries.event': DELIVERY_EVENTS,
  'deliveries.kind': MESSAGE_KINDS,
  'cardholders.status': CARD_STATUSES,
  'risk_assessments.level': RISK_LEVELS,
  'risk_alerts.status': ALERT_STATUSES,
  'risk_alerts.answer': CARDHOLDER_ANSWERS,
  'operators.role': ROLES,
  'operators.source': OPERATOR_SOURCES,
  'cases.status': CASE_STATUSES,
  'cases.level': RISK_LEVELS,
  'cases.opened_by': CASE_OPENERS,
  'cases.disposition': DISPOSITIONS,
  'case_notes.kind': CASE_NOTE_KINDS,
};

const quoted = (list: string) => [...list.matchAll(/'([^']*)'/g)].map((m) => m[1]!);

/** `table.column` → the values its CHECK allows, as the database holds the constraints. */
async function checkLists(url: string): Promise<Record<string, string[]>> {
  const store = await openStore({ url, poolSize: 2, statementTimeoutMs: 5000 });
  try {
    await store.migrate();
    const sql = rawSql(store);
    const found: Record<string, string[]> = {};
    if (sql.dialect === 'sqlite') {
      const tables = await sql.all<{ name: string; sql: string }>(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL",
      );
      for (const t of tables)
        for (const m of t.sql.matchAll(/CHECK \((\w+) IN \(([^)]*)\)\)/g))
          found[`${t.name}.${m[1]}`] = quoted(m[2]!);
    } else {
      const checks = await sql.all<{ tbl: string; def: string }>(
        "SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'c'",
      );
      for (const c of checks) {
        // A constraint added NOT VALID (checked for new rows only) says so at the end.
        const m =
          /^CHECK \(\(?(\w+) = ANY \(\(?ARRAY\[(.*)\]\)?(?:::text\[\])?\)\)?\)(?: NOT VALID)?$/.exec(
            c.def,
          );
        if (m) found[`${c.tbl}.${m[1]}`] = quoted(m[2]!);
      }
    }
    return found;
  } finally {
    await store.close();
  }
}

for (const dialect of await dialects()) {
  describe(`the schema's CHECK lists on ${dialect.name}`, () => {
    it('are the vocabulary lists of src/domain/, value for value and in order', async () => {
      const db = await dialect.create();
      try {
        const found = await checkLists(db.url);
        assert.deepEqual(
          Object.keys(found).sort(),
          Object.keys(EXPECTED).sort(),
          'every CHECK list of the schema is paired with a list of src/domain/',
        );
        for (const [column, list] of Object.entries(EXPECTED))
          assert.deepEqual(found[column], [...list], column);
      } finally {
        await db.drop();
      }
    });
  });
}
