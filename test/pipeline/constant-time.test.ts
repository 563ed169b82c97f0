import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { constantTimeEqual } from '../../src/util/constant-time.js';

// Secret comparisons must be constant-time (crypto.timingSafeEqual). Timing cannot be asserted
// in `npm test`, so this audits the source instead, with the TypeScript parser: any ===, !==,
// ==, != between two non-literal operands, or any Buffer equals/compare, where an operand is
// named like a secret or a MAC, fails the suite. Comparisons with a literal (undefined, null,
// a number, a string, a length) reveal nothing about a secret's bytes and are allowed.

const SECRETISH =
  /(mac|hmac|signature|\bsig\b|digest|token|secret|password|apikey|api_key|expected|given|hash)/i;

function isLiteral(n: ts.Expression): boolean {
  const e = ts.isParenthesizedExpression(n) ? n.expression : n;
  return (
    ts.isStringLiteral(e) ||
    ts.isNumericLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTypeOfExpression(e) ||
    e.kind === ts.SyntaxKind.NullKeyword ||
    e.kind === ts.SyntaxKind.TrueKeyword ||
    e.kind === ts.SyntaxKind.FalseKeyword ||
    (ts.isIdentifier(e) && e.text === 'undefined') ||
    (ts.isPrefixUnaryExpression(e) && ts.isNumericLiteral(e.operand)) ||
    (ts.isPropertyAccessExpression(e) &&
      (e.name.text === 'length' || e.name.text === 'size' || e.name.text === 'byteLength'))
  );
}

/** Non-constant-time comparisons of secret-looking values in `source`, as `file:line text`. */
export function findSecretComparisons(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const report = (n: ts.Node) =>
    found.push(
      `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1} ${n.getText().slice(0, 120)}`,
    );
  const visit = (n: ts.Node) => {
    if (ts.isBinaryExpression(n)) {
      const op = n.operatorToken.kind;
      const equality = [
        ts.SyntaxKind.EqualsEqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsEqualsToken,
        ts.SyntaxKind.EqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsToken,
      ].includes(op);
      if (
        equality &&
        !isLiteral(n.left) &&
        !isLiteral(n.right) &&
        (SECRETISH.test(n.left.getText()) || SECRETISH.test(n.right.getText()))
      )
        report(n);
    }
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      const name = n.expression.name.text;
      const callee = n.expression.expression.getText();
      if (
        (name === 'equals' || (name === 'compare' && callee === 'Buffer')) &&
        SECRETISH.test(n.getText())
      )
        report(n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('secret comparisons are constant-time', () => {
  it('the audit catches the mistakes it is for', () => {
    const bad = `
      if (givenMac === expected) ok();
      if (signature.equals(expectedSig)) ok();
      if (Buffer.compare(token, other) === 0) ok();
      if (req.headers['x-api-token'] == apiToken) ok();`;
    assert.equal(findSecretComparisons('bad.ts', bad).length, 4);
    const fine = `
      if (secret === undefined) x();
      if (token.length !== 64) x();
      if (typeof signature === 'string') x();
      if (timingSafeEqual(given, expected)) x();
      if (kid === other) x();`;
    assert.deepEqual(findSecretComparisons('fine.ts', fine), []);
  });

  it('src/ compares no secret with ===, !==, equals or compare', () => {
    const root = new URL('../../../src', import.meta.url).pathname;
    const findings = sourceFiles(root).flatMap((f) =>
      findSecretComparisons(f.slice(root.length + 1), readFileSync(f, 'utf8')),
    );
    assert.deepEqual(findings, []);
  });

  it('constantTimeEqual (console CSRF tokens): equal strings only; anything else unequal', () => {
    assert.equal(constantTimeEqual('a-csrf-token', 'a-csrf-token'), true);
    assert.equal(constantTimeEqual('a-csrf-tokem', 'a-csrf-token'), false);
    assert.equal(constantTimeEqual('a-csrf-token-longer', 'a-csrf-token'), false);
    assert.equal(constantTimeEqual(undefined, 'a-csrf-token'), false);
    assert.equal(constantTimeEqual(['a-csrf-token'], 'a-csrf-token'), false);
  });

  it('the X-Pay-Token HMAC is compared with timingSafeEqual', () => {
    const src = readFileSync(
      new URL('../../../src/pipeline/authenticate.ts', import.meta.url),
      'utf8',
    );
    assert.match(src, /timingSafeEqual\(given, expected\)/);
  });
});
