import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapGroups, showsMfa } from '../../src/admin/oidc-groups.js';
import { ALL_ISSUERS, onlyIssuers } from '../../src/domain/issuer-scope.js';

const MAPPINGS = [
  { group: 'a-viewers', role: 'viewer' as const, issuers: ['bank-a'] },
  { group: 'a-admins', role: 'admin' as const, issuers: ['bank-a'] },
  { group: 'b-admins', role: 'admin' as const, issuers: ['bank-b'] },
  { group: 'b-analysts', role: 'analyst' as const, issuers: ['bank-b'] },
  { group: 'staff-viewers', role: 'viewer' as const, allIssuers: true },
];

describe("the provider's groups as a role and issuers", () => {
  it('no mapped group: no access', () => {
    assert.equal(mapGroups(['other'], MAPPINGS), undefined);
  });

  it('one role over every issuer, never more at an issuer than a group grants there', () => {
    assert.deepEqual(mapGroups(['a-viewers', 'b-admins'], MAPPINGS), {
      role: 'viewer',
      scope: onlyIssuers(['bank-a', 'bank-b']),
    });
    assert.deepEqual(mapGroups(['a-admins', 'b-admins'], MAPPINGS), {
      role: 'admin',
      scope: onlyIssuers(['bank-a', 'bank-b']),
    });
    // At one issuer, the highest of its groups.
    assert.deepEqual(mapGroups(['a-viewers', 'a-admins'], MAPPINGS), {
      role: 'admin',
      scope: onlyIssuers(['bank-a']),
    });
    assert.deepEqual(mapGroups(['a-admins', 'b-analysts'], MAPPINGS)?.role, 'analyst');
  });

  it('a group of every issuer gives every issuer, at its own role', () => {
    assert.deepEqual(mapGroups(['staff-viewers', 'a-admins'], MAPPINGS), {
      role: 'viewer',
      scope: ALL_ISSUERS,
    });
  });

  it('a second factor is amr mfa, otp, hwk or swk (RFC 8176), or a listed acr', () => {
    assert.equal(showsMfa({ amr: ['pwd'] }, []), false);
    assert.equal(showsMfa({ amr: ['pwd', 'otp'] }, []), true);
    assert.equal(showsMfa({ amr: ['hwk'] }, []), true);
    assert.equal(showsMfa({ acr: 'gold' }, []), false);
    assert.equal(showsMfa({ acr: 'gold' }, ['gold']), true);
  });
});
