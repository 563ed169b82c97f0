import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseEmail, normalisePhone } from '../../src/risk/match/contact-normalise.js';
import { nameSimilarity, nameTokens } from '../../src/risk/match/name-similarity.js';
import { nicknameEquivalent } from '../../src/risk/match/nicknames.js';
import { osaDistance, osaSimilarity } from '../../src/risk/match/string-similarity.js';

const sim = (ef: string, el: string, cf: string, cl: string) =>
  nameSimilarity({ firstName: ef, lastName: el }, { firstName: cf, lastName: cl })!;

describe('name matching', () => {
  it('normalises case, accents, transliteration and titles into tokens', () => {
    assert.deepEqual(nameTokens('Dr. ZOË  Müller-Lüdenscheidt'), ['zoe', 'muller', 'ludenscheidt']);
    assert.deepEqual(nameTokens('Дмитрий'), ['dmitriy']);
    assert.deepEqual(nameTokens('Groß'), ['gross']);
    assert.deepEqual(nameTokens(''), []);
  });

  it('scores the same person high despite how the name is typed', () => {
    const cases: [string, string, string, string][] = [
      ['robert', 'SMITH', 'Robert', 'Smith'], // case
      ['Zoe', 'Muller', 'Zoë', 'Müller'], // accents dropped
      ['Jurgen', 'Mueller', 'Jürgen', 'Müller'], // umlaut spelled out
      ['Smith', 'Robert', 'Robert', 'Smith'], // order
      ['R.', 'Smith', 'Robert', 'Smith'], // initial
      ['Bob', 'Smith', 'Robert', 'Smith'], // nickname
      ['Liz', 'Taylor', 'Elizabeth', 'Taylor'],
      ['Paco', 'García', 'Francisco', 'Garcia'],
      ['Дмитрий', 'Иванов', 'Dmitry', 'Ivanov'], // transliteration
      ['Robret', 'Smith', 'Robert', 'Smith'], // typo (transposition)
      ['Robert', 'Smtih', 'Robert', 'Smith'],
      ['Mary Jane', 'Watson', 'Mary', 'Watson'], // middle name
      ['Jean-Baptiste', 'Dupré', 'Jean Baptiste', 'Dupre'], // compound given name
      ['Ana', 'García Márquez', 'Ana', 'Garcia'], // compound family name
    ];
    for (const [ef, el, cf, cl] of cases)
      assert.ok(sim(ef, el, cf, cl) >= 0.8, `${ef} ${el} vs ${cf} ${cl}: ${sim(ef, el, cf, cl)}`);
  });

  it('scores an unrelated person low, and a relative with the same surname in between', () => {
    assert.ok(sim('Emma', 'Garcia', 'Robert', 'Smith') < 0.3);
    assert.ok(sim('Dmitry', 'Ivanov', 'Olga', 'Petrova') < 0.6);
    const relative = sim('Alice', 'Smith', 'Robert', 'Smith');
    assert.ok(relative >= 0.6 && relative < 0.8, String(relative));
  });

  it('has no score when either side has no name', () => {
    assert.equal(
      nameSimilarity({ firstName: null, lastName: null }, { firstName: 'A', lastName: 'B' }),
      undefined,
    );
  });

  it('nickname table: groups are symmetric, a short form may belong to several names', () => {
    assert.ok(nicknameEquivalent('bob', 'robert') && nicknameEquivalent('robert', 'bob'));
    assert.ok(nicknameEquivalent('alex', 'alexander') && nicknameEquivalent('alex', 'alexandra'));
    assert.ok(
      !nicknameEquivalent('alexander', 'alexandra'),
      'two names sharing a short form are not the same name',
    );
    assert.ok(!nicknameEquivalent('bob', 'william'));
  });

  it('edit distance counts one adjacent swap as one edit', () => {
    assert.equal(osaDistance('smith', 'smtih'), 1);
    assert.equal(osaDistance('kitten', 'sitting'), 3);
    assert.equal(osaDistance('', 'abc'), 3);
    assert.equal(osaSimilarity('abcd', 'abcd'), 1);
  });
});

describe('contact normalisation', () => {
  it('emails: case, +tags, Gmail dots and googlemail.com', () => {
    assert.equal(normaliseEmail(' Jane.Doe+ctp@GMail.com '), 'janedoe@gmail.com');
    assert.equal(normaliseEmail('j.a.n.e.doe@googlemail.com'), 'janedoe@gmail.com');
    assert.equal(
      normaliseEmail('Jane.Doe+news@outlook.com'),
      'jane.doe@outlook.com',
      'dots matter outside Gmail',
    );
    assert.equal(normaliseEmail('not-an-email'), undefined);
    assert.equal(normaliseEmail('a@localhost'), undefined);
  });

  it('phones: E.164 from any common format, national numbers in the default country', () => {
    for (const p of [
      '+447700900123',
      '07700900123',
      '07700-900123',
      '+44(0)7700900123',
      '00447700900123',
    ]) {
      assert.equal(normalisePhone(p, 'GB'), '+447700900123', p);
    }
    assert.equal(normalisePhone('(415)555-0100', 'US'), '+14155550100');
    assert.equal(
      normalisePhone('+33612345678', 'GB'),
      '+33612345678',
      'international numbers ignore the default',
    );
    assert.equal(normalisePhone('07700900123'), '07700900123', 'no default country: digits only');
    assert.equal(normalisePhone(''), undefined);
  });
});
