import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progress } from '../../src/cli/progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (t: string) => out.push(t) } as unknown as NodeJS.WriteStream };
}

describe('progress lines', () => {
  it('on a terminal: done, total, rate and time left, redrawn in place, ended with a newline', async () => {
    const { out, s } = stream(true);
    const bar = progress('import', { stream: s, unit: ' rows', intervalMs: 0 });
    bar.update(10, 100);
    await new Promise((r) => setTimeout(r, 20));
    bar.update(50, 100);
    bar.end();
    assert.ok(out.length >= 3);
    assert.ok(out[0]!.startsWith('\r\x1b[2K'), 'redrawn in place (CR, erase line)');
    assert.match(out[0]!, /import: 10\/100 rows \(10 %\)/);
    assert.match(out.at(-2)!, /50\/100 rows \(50 %\), \d+ rows\/s, \d+ s left/);
    assert.equal(out.at(-1), '\n');
  });

  it('nothing when stderr is not a terminal, or with --quiet', () => {
    for (const [tty, quiet] of [
      [false, false],
      [true, true],
    ] as const) {
      const { out, s } = stream(tty);
      const bar = progress('backup', { stream: s, quiet, intervalMs: 0 });
      bar.update(1, 2);
      bar.end();
      assert.deepEqual(out, []);
    }
  });
});
