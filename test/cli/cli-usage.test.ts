import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli-process.js';

const COMMANDS = [
  'serve',
  'worker',
  'send',
  'notifications',
  'quarantine',
  'deliveries',
  'sinks',
  'cardholders',
  'operators',
  'risk',
  'keys',
  'migrate',
  'purge',
  'backup',
];

describe('the command line', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = runCli(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `ctp-notify ${version}\n`);
  });

  it('every command answers --help and help COMMAND with its usage on stdout, exit 0', () => {
    for (const c of COMMANDS) {
      for (const args of [
        [c, '--help'],
        ['help', c],
        [c, '-h'],
      ]) {
        const r = runCli(args);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^ctp-notify ${c}\\b`), args.join(' '));
        assert.equal(r.stderr, '');
      }
    }
    // Subcommands too: the command's usage covers them.
    const r = runCli(['deliveries', 'list', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /ctp-notify deliveries list/);
  });

  it('a wrong command line exits 2 with the message and the usage on stderr', () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--bogus'], /Unknown option '--bogus'/],
      [['deliveries'], /give a subcommand/],
      [['deliveries', 'frobnicate'], /unknown subcommand "frobnicate"/],
      [['backup', '--config', '/nonexistent.json'], /--out FILE is required/],
      [['nonsense'], /unknown command "nonsense"/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage|ctp-notify \w+ /, 'with the usage');
      assert.equal(r.stdout, '');
    }
    assert.equal(runCli([]).status, 2, 'no command at all');
  });

  it('a missing or invalid configuration exits 2 naming the problem, without the usage', () => {
    const r = runCli(['migrate', '--config', '/nonexistent/ctp-notify.json']);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /Usage/);
    assert.match(r.stderr, /cannot read \/nonexistent\/ctp-notify.json/);
  });

  it('CTP_NOTIFY_CONFIG names the config file when --config is not given (containers, units)', () => {
    const r = runCli(['migrate'], { CTP_NOTIFY_CONFIG: '/nonexistent/from-env.json' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read \/nonexistent\/from-env.json/);
    const flag = runCli(['migrate', '--config', '/nonexistent/from-flag.json'], {
      CTP_NOTIFY_CONFIG: '/nonexistent/from-env.json',
    });
    assert.match(flag.stderr, /from-flag/, '--config wins');
  });
});
