// `npm run admin -- <command>`: the first admin of a production install, and a lost password.
// Runs against the database the server uses (DATABASE_URL, or PGlite under DATA_DIR while the
// server is stopped), through the modules' services; every change is audited.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createApp } from '../src/app';
import { defaultPolicy } from '../src/modules/consent';
import { ConfigError, parseConfig } from '../src/platform/config';
import { openDatabase } from '../src/platform/db/client';
import { loadSecrets } from '../src/platform/secrets';
import { AppError } from '../src/platform/errors';
import { RING_VARIABLES, withoutRetiredKeys } from '../src/modules/keys';

const USAGE = `Usage:
  npm run admin -- create-admin --email <email> --name <name> [--org <organisation name or id>] [--time-zone <IANA zone>]
      An admin of that organisation (the first one when --org is left out); creates the
      organisation when there is none yet (with the default policy).
  npm run admin -- reset-password --email <email> [--org <organisation name or id>]
      A new one-time password for that person, printed once; --org is needed when the
      email is in more than one organisation.
  npm run admin -- keys status
      Every key of each ring (title, token, receipt, audit): current, previous or retired,
      and what still needs it.
  npm run admin -- keys reencrypt
      Re-seals window titles and TOTP seeds under the newest title key now, printing progress
      (the worker role does the same in the background, a batch every 30 s).
  npm run admin -- keys retire --ring <title|token|receipt|audit> --key <key id>
      Retires a key once nothing needs it (refused, saying what still does); retired receipt
      and audit keys stay listed at /v1/receipt-keys and /v1/audit-keys.`;

class UsageError extends Error {}

const newPassword = () => randomBytes(12).toString('base64url');

const RINGS = ['title', 'token', 'receipt', 'audit'] as const;

async function keysCommand(argv: string[]) {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { ring: { type: 'string' }, key: { type: 'string' } }, strict: true });
  if (sub !== 'status' && sub !== 'reencrypt' && sub !== 'retire')
    throw new UsageError(sub ? `Unknown keys command "${sub}"` : 'keys: status, reencrypt or retire');
  const config = parseConfig({ ...process.env, DEMO_SEED: 'false' });
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
  try {
    const secrets = await withoutRetiredKeys(database, loadSecrets(config));
    const cloud = createApp({ config, database, secrets, logger: pino({ level: 'warn' }) });
    const keys = cloud.services.keys;
    await keys.register();
    const print = async () => {
      for (const k of await keys.status()) {
        const needs =
          k.neededBy.length > 0
            ? `needed by ${k.neededBy.join('; ')}`
            : k.state === 'retired'
              ? `retired ${k.retiredAt?.toISOString() ?? ''}`
              : 'nothing needs it: can be retired';
        process.stdout.write(`${k.ring.padEnd(8)} ${k.keyId}  ${k.state.padEnd(8)} ${k.configured ? 'configured' : 'not configured'}  ${needs}\n`);
      }
    };
    if (sub === 'status') await print();
    else if (sub === 'reencrypt') {
      await keys.reencryptAll((p) =>
        process.stdout.write(`${p.what}: ${p.resealed} re-sealed${p.unreadable > 0 ? `, ${p.unreadable} under a key not configured` : ''}\n`),
      );
      await print();
    } else {
      const ring = RINGS.find((r) => r === values.ring);
      if (!ring) throw new UsageError('--ring: one of title, token, receipt, audit');
      if (!values.key) throw new UsageError('--key: the key id (see keys status)');
      try {
        const retired = await keys.retire(ring, values.key);
        process.stdout.write(
          `Retired the ${ring} key ${retired.keyId}: remove it from ${RING_VARIABLES[ring]} at the next restart; servers refuse it from their next start.\n`,
        );
      } catch (error) {
        if (error instanceof AppError) {
          process.stderr.write(`${error.message}\n`);
          process.exitCode = 3;
          return;
        }
        throw error;
      }
    }
    await cloud.stop();
  } finally {
    await database.close();
  }
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (command === 'keys') return keysCommand(rest);
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, 'time-zone': { type: 'string' } },
    strict: true,
  });
  if (command !== 'create-admin' && command !== 'reset-password') throw new UsageError(command ? `Unknown command "${command}"` : 'No command given');
  const email = values.email?.trim().toLowerCase();
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError('--email: a valid email address is required');

  // The demo org is never made here, whatever DEMO_SEED says.
  const config = parseConfig({ ...process.env, DEMO_SEED: 'false' });
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
  const cloud = createApp({ config, database, secrets: loadSecrets(config), logger: pino({ level: 'warn' }) });
  const { directory, consent, audit, auth } = cloud.services;
  const named = values.org?.trim();
  try {
    const orgs = await directory.listOrgs();
    // An organisation by its id or by its name (any case); undefined when --org names none.
    const orgNamed = (value: string) => orgs.find((o) => o.id === value) ?? orgs.find((o) => o.name.toLowerCase() === value.toLowerCase());
    const nameOf = (orgId: string) => orgs.find((o) => o.id === orgId)?.name ?? orgId;
    if (command === 'reset-password') {
      // Emails are unique per organisation: the same address may be a person in several.
      const everywhere = await directory.findUsersByEmail(email);
      let people = everywhere;
      if (named !== undefined) {
        const org = orgNamed(named);
        if (!org) throw new UsageError(`--org: there is no organisation "${named}"`);
        people = people.filter((p) => p.orgId === org.id);
      }
      const [user, ...others] = people;
      if (!user) throw new UsageError(`--email: nobody is registered as ${email}${named === undefined ? '' : ` in ${named}`}`);
      if (others.length > 0) {
        const names = people.map((p) => `"${nameOf(p.orgId)}"`).join(', ');
        throw new UsageError(`--org: ${email} is registered in ${people.length} organisations (${names}); name one`);
      }
      const password = newPassword();
      await directory.setPassword(user.id, password);
      await auth.signOutEverywhere(user.id);
      await audit.record({
        orgId: user.orgId,
        actorType: 'system',
        actorId: 'admin-cli',
        action: 'user.password_reset',
        subjectUserIds: [user.id],
        details: { by: 'command line' },
      });
      const where = everywhere.length > 1 ? ` in "${nameOf(user.orgId)}"` : '';
      process.stdout.write(`New password for ${email}${where}: ${password}\n(shown once; every session of this person was signed out)\n`);
      return;
    }

    const name = values.name?.trim();
    if (!name) throw new UsageError('--name: the admin\u2019s name is required');
    let org = named === undefined ? orgs[0] : orgNamed(named);
    if (!org && orgs.length > 0) throw new UsageError(`--org: there is no organisation "${named}" (there are: ${orgs.map((o) => `"${o.name}"`).join(', ')})`);
    if (org && (await directory.findUserByEmail(org.id, email)))
      throw new UsageError(`--email: ${email} is registered already in "${org.name}" (reset-password sets a new password)`);
    if (!org) {
      if (!named) throw new UsageError('--org: there is no organisation yet, so its name is required');
      org = await directory.createOrg({ name: named, timeZone: values['time-zone'] ?? 'UTC' });
      await consent.publish(org.id, defaultPolicy(org.name), { type: 'system', id: 'admin-cli' });
      process.stdout.write(`Organisation "${org.name}" created with the default policy (review it under Policies).\n`);
    }
    const password = newPassword();
    const admin = await directory.createUser({ orgId: org.id, email, name, role: 'admin', password });
    await audit.record({
      orgId: org.id,
      actorType: 'system',
      actorId: 'admin-cli',
      action: 'user.admin_created',
      subjectUserIds: [admin.id],
      details: { by: 'command line' },
    });
    process.stdout.write(`Admin sign-in: ${email} / ${password}\n(shown once; set up the second factor at the first sign-in)\n`);
  } finally {
    await cloud.stop();
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
  ) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`Failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
