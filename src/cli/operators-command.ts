import { addOperator, isRole, OperatorExistsError } from '../admin/operators.js';
import type { Config } from '../config/config-schema.js';
import { ALL_ISSUERS, type IssuerScope, onlyIssuers } from '../domain/issuer-scope.js';
import type { Role } from '../domain/roles.js';
import { presentOperator, presentScope } from '../presenters/operator-presenter.js';
import { openStore } from '../storage/open-store.js';
import { loadConfigFrom, parse, subcommandMessage, UsageError } from './cli-support.js';
import { operatorTokensCommand, operatorTokensHelp } from './operator-tokens-command.js';

export const operatorsHelp = `ctp-notify operators add --config FILE --name NAME --role viewer|analyst|admin|channel
    [--issuer ID]... | [--all-issuers] [--format json|text]
ctp-notify operators list [--config FILE] [--format json|text]
ctp-notify operators disable|enable [--config FILE] --name NAME
ctp-notify operators reset-mfa [--config FILE] --name NAME
  Operators of the console and admin API. "add" prints a generated password and API token once;
  only their hashes are stored. Roles: viewer reads; analyst also reprocesses, retries, replays
  and works fraud cases; admin also manages sinks and operators; channel (the bank's app or
  messaging system) only posts cardholders' answers to alerts, with its API token. An operator
  sees the resources of the issuers given with --issuer (repeat it for several), or of every
  issuer with --all-issuers (processor staff); one of them is required when several issuers are
  configured, and with one the operator sees every issuer. The API token "add" prints expires
  after 90 days (a channel operator's never does). "reset-mfa" forgets a local operator's
  second factor (a lost device) and signs them out: they enrol again at their next sign-in.
${operatorTokensHelp}`;

export async function operatorsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'token' || sub === 'tokens' || sub === 'revoke-token')
    return operatorTokensCommand(sub, rest);
  if (
    sub !== 'add' &&
    sub !== 'list' &&
    sub !== 'disable' &&
    sub !== 'enable' &&
    sub !== 'reset-mfa'
  )
    throw new UsageError(subcommandMessage(sub));
  const f = parse(rest, {
    config: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    issuer: { type: 'string', multiple: true },
    'all-issuers': { type: 'boolean' },
    format: { type: 'string', default: 'text' },
  });
  if (f.format !== 'json' && f.format !== 'text')
    throw new UsageError('--format must be json or text');
  if (sub !== 'list' && !f.name) throw new UsageError('--name is required');
  if (sub === 'add' && !isRole(f.role))
    throw new UsageError('--role must be viewer, analyst, admin or channel');
  const { config } = loadConfigFrom(f.config);
  const scope = sub === 'add' ? operatorScope(config, f.issuer, f['all-issuers']) : ALL_ISSUERS;
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    const { operators, audit } = store.openAdminStores();
    const actor = `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
    if (sub === 'list') {
      const items = (await operators.list()).map(presentOperator);
      if (f.format === 'json') process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else
        for (const o of items)
          process.stdout.write(
            `${o.name}\t${o.role}\t${o.allIssuers ? '(all issuers)' : o.issuers.join(',')}${o.disabledAt ? '\tdisabled' : ''}\n`,
          );
      return 0;
    }
    if (sub === 'add') {
      let issued: Awaited<ReturnType<typeof addOperator>>;
      try {
        issued = await addOperator(operators, f.name!, f.role as Role, scope);
      } catch (e) {
        if (e instanceof OperatorExistsError)
          throw new UsageError(`an operator named "${f.name}" exists`);
        if (e instanceof TypeError) throw new UsageError(e.message);
        throw e;
      }
      await audit.append({
        actor,
        actorRole: null,
        action: 'operator.add',
        target: issued.name,
        outcome: 'ok',
        address: 'cli',
        detail: { role: issued.role, ...presentScope(scope) },
      });
      const { scope: _, ...shown } = issued;
      if (f.format === 'json')
        process.stdout.write(`${JSON.stringify({ ...shown, ...presentScope(scope) })}\n`);
      else {
        process.stdout.write(
          `Operator "${issued.name}" (${issued.role}) created. Shown once; store them now:\n` +
            `  password:  ${issued.password}\n  API token: ${issued.apiToken}\n`,
        );
      }
      return 0;
    }
    if (sub === 'reset-mfa') {
      const op = await operators.byName(f.name!);
      if (!op || !(await store.openAdminStores().mfa.reset(op.id)))
        throw new UsageError(`no operator named "${f.name}"`);
      await operators.endSessions(op.id);
      await audit.append({
        actor,
        actorRole: null,
        action: 'operator.mfa_reset',
        target: op.name,
        outcome: 'ok',
        address: 'cli',
        detail: null,
      });
      process.stdout.write(
        `${op.name}: second factor reset; they enrol again at their next sign-in\n`,
      );
      return 0;
    }
    const ok = await operators.setDisabled(f.name!, sub === 'disable' ? Date.now() : null);
    if (!ok) throw new UsageError(`no operator named "${f.name}"`);
    await audit.append({
      actor,
      actorRole: null,
      action: `operator.${sub}`,
      target: f.name!,
      outcome: 'ok',
      address: 'cli',
      detail: null,
    });
    process.stdout.write(`${f.name} ${sub}d\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * An operator's issuers from `--issuer` (repeated) or `--all-issuers`: one of them with several
 * issuers configured; with one, every issuer.
 */
function operatorScope(
  config: Config,
  issuers: string[] | undefined,
  all: boolean | undefined,
): IssuerScope {
  const ids = config.issuers.map((i) => i.id);
  if (all) {
    if (issuers !== undefined)
      throw new UsageError('--issuer and --all-issuers exclude each other');
    return ALL_ISSUERS;
  }
  if (issuers === undefined) {
    if (ids.length === 1) return ALL_ISSUERS;
    throw new UsageError(`--issuer ID (one of ${ids.join(', ')}) or --all-issuers is required`);
  }
  const unknown = issuers.filter((i) => !ids.includes(i));
  if (unknown.length > 0) throw new UsageError(`--issuer must be one of ${ids.join(', ')}`);
  return onlyIssuers(issuers);
}
