import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DeliveryItem, OperatorItem } from '../../src/api/api-schemas.js';
import { onlyIssuers } from '../../src/domain/issuer-scope.js';
import { presentDelivery } from '../../src/presenters/delivery-presenter.js';
import { iso } from '../../src/presenters/iso-time.js';
import { presentOperator } from '../../src/presenters/operator-presenter.js';

if (!FormatRegistry.Has('date-time'))
  FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

describe('presenters (one JSON per resource for the CLI and the admin API)', () => {
  const t = Date.parse('2026-03-01T10:00:00Z');
  const row = {
    id: '0195a1b2-0000-7000-8000-000000000001',
    issuer: 'bank-a',
    kind: 'event' as const,
    notificationId: '0195a1b2-0000-7000-8000-0000000000aa',
    sink: 'fraud-ops',
    origin: 'accepted' as const,
    status: 'failed' as const,
    attempts: 2,
    nextAttemptAt: t + 5000,
    createdAt: t,
    updatedAt: t + 1000,
    deliveredAt: null,
    lastError: 'HTTP_503',
    lastStatus: 503,
    leaseUntil: t + 2000,
    event: 'enrollment' as const,
    alertId: null,
  };

  it('a delivery: the API schema, the event id, a due time only while one is due, in flight while leased', () => {
    const d = presentDelivery(row, t + 1500);
    assert.ok(Value.Check(DeliveryItem, d));
    assert.deepEqual(Object.keys(d).sort(), Object.keys(DeliveryItem.properties).sort());
    assert.equal(d.eventId, `evt_${row.notificationId}`);
    assert.equal(d.nextAttemptAt, '2026-03-01T10:00:05.000Z');
    assert.equal(d.inFlight, true);
    assert.equal(presentDelivery(row, t + 2000).inFlight, false);
    assert.equal(presentDelivery({ ...row, status: 'dead' }, t).nextAttemptAt, null);
    const alertId = '0195a1b2-0000-7000-8000-0000000000bb';
    const answer = presentDelivery({ ...row, event: 'cardholder_answer', alertId }, t);
    assert.deepEqual([answer.event, answer.eventId], ['cardholder_answer', `evt_${alertId}`]);
  });

  it('an operator, and iso() keeps null', () => {
    const o = presentOperator({
      id: 'x',
      name: 'ada',
      role: 'admin',
      scope: onlyIssuers(['bank-b', 'bank-a']),
      source: 'local',
      mfaEnrolled: false,
      createdAt: t,
      disabledAt: null,
      lastLoginAt: t + 1,
    });
    assert.ok(Value.Check(OperatorItem, o));
    assert.deepEqual(o, {
      name: 'ada',
      role: 'admin',
      source: 'local',
      mfaEnrolled: false,
      allIssuers: false,
      issuers: ['bank-a', 'bank-b'],
      createdAt: '2026-03-01T10:00:00.000Z',
      disabledAt: null,
      lastLoginAt: '2026-03-01T10:00:00.001Z',
    });
    assert.equal(iso(null), null);
  });
});
