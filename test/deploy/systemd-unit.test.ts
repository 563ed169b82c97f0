import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

// deploy/systemd/ctp-notify.service: accepted by `systemd-analyze verify` without a single
// warning, and hardened (each directive below is asserted, so dropping one fails here).

const unitPath = new URL('../../../deploy/systemd/ctp-notify.service', import.meta.url).pathname;
const unit = readFileSync(unitPath, 'utf8');
const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const analyzer = probe.error === undefined && probe.status === 0;
const noAnalyzer = analyzer
  ? false
  : 'systemd-analyze not found on this machine (Debian package systemd): the unit is not verified';
const dir = mkdtempSync(join(tmpdir(), 'ctp-systemd-unit-'));

/** Every `Key=value` of a section, in order (systemd keeps list-valued keys as several lines). */
function directives(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/**
 * Runs `systemd-analyze verify` on a copy of `text` named ctp-notify.service in a temp folder.
 * ExecStart's binary must exist for verify, so the copy runs this test's own node.
 */
function verify(text: string): { status: number | null; lines: string[] } {
  const copy = join(dir, 'ctp-notify.service');
  writeFileSync(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { status: r.status, lines };
}
const aboutUnit = (lines: string[]) => lines.filter((l) => l.includes('ctp-notify.service'));

describe('systemd unit deploy/systemd/ctp-notify.service', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify with no warning about the unit', { skip: noAnalyzer }, () => {
    const r = verify(unit);
    assert.deepEqual(
      aboutUnit(r.lines),
      [],
      `systemd-analyze verify printed:\n${r.lines.join('\n')}`,
    );
    assert.equal(r.status, 0, r.lines.join('\n'));
  });

  it('the verify check sees a broken unit (an unknown directive, a bad value)', {
    skip: noAnalyzer,
  }, () => {
    const broken = unit.replace(
      '[Service]\n',
      '[Service]\nProtectSystm=strict\nPrivateTmp=perhaps\n',
    );
    const lines = aboutUnit(verify(broken).lines).join('\n');
    assert.match(lines, /ProtectSystm/);
    assert.match(lines, /perhaps/);
  });

  it('runs as a dedicated user with the hardening directives', () => {
    const s = directives(unit, 'Service');
    const one = (key: string) => {
      const v = s.get(key);
      assert.ok(v, `${key}= missing`);
      return v[v.length - 1];
    };
    assert.equal(one('User'), 'ctp-notify');
    assert.equal(one('Group'), 'ctp-notify');
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      ProtectClock: 'yes',
      ProtectHostname: 'yes',
      RestrictNamespaces: 'yes',
      RestrictRealtime: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      SystemCallErrorNumber: 'EPERM',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      UMask: '0077',
      StateDirectory: 'ctp-notify',
      StateDirectoryMode: '0700',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(one(key), value, `${key}=`);
    assert.deepEqual(
      s.get('ReadWritePaths'),
      ['/var/lib/ctp-notify'],
      'the data folder is the only writable path',
    );
    assert.ok(
      s.get('SystemCallFilter')?.[0]?.split(/\s+/).includes('@system-service'),
      'SystemCallFilter=@system-service first',
    );
    // V8's JIT cannot run under MemoryDenyWriteExecute=yes: Node aborts at start.
    assert.notEqual(s.get('MemoryDenyWriteExecute')?.at(-1), 'yes');
    assert.match(one('ExecStart') ?? '', / serve --config \/etc\/ctp-notify\/config\.json$/);
  });

  it('has an exposure level of at most 2.0 in systemd-analyze security', {
    skip: noAnalyzer,
  }, (t) => {
    const copy = join(dir, 'ctp-notify.service');
    writeFileSync(copy, unit.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', copy], {
      encoding: 'utf8',
    });
    const level = /Overall exposure level for ctp-notify\.service: ([\d.]+)/.exec(r.stdout);
    if (level === null) {
      t.skip(
        `this systemd-analyze has no offline security review: ${r.stderr.trim().split('\n')[0] ?? ''}`,
      );
      return;
    }
    assert.ok(Number(level[1]) <= 2.0, `exposure level ${level[1]}`);
  });
});
