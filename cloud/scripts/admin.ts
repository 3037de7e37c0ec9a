// `npm run admin -- <command>`: the first admin of a production install, a lost password, and
// backups (`backup`, `backups`, `restore`). Runs against the database the server uses
// (DATABASE_URL, or PGlite under DATA_DIR while the server is stopped), through the modules'
// services; every change is audited.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openObjectStore } from '../src/adapters/object-store';
import { createApp } from '../src/app';
import { defaultPolicy } from '../src/modules/consent';
import { backup, BackupError, listBackups, restore } from '../src/platform/backup';
import { ConfigError, parseConfig, type Config } from '../src/platform/config';
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
  npm run admin -- backup
      The whole database, encrypted with BACKUP_KEY, to the object store (OBJECT_STORE_URL or
      S3_*; DATA_DIR/objects by default) with a manifest; prints the backup's id. On PGlite the
      server must be stopped.
  npm run admin -- backups
      The backups in the object store, oldest first.
  npm run admin -- restore --backup <id or latest> (--target-database-url <url> | --target-data-dir <dir>)
      Checks the backup against its manifest, then restores it into a new, empty PostgreSQL
      database (a PostgreSQL backup) or a new DATA_DIR (a PGlite backup).
  npm run admin -- audit-archive [--org <organisation name or id>]
      Signs a checkpoint of each organisation's audit chain and copies the chain up to it to the
      object store now (the scheduler does so daily).
  npm run admin -- verify-audit-archive --org <organisation name or id>
      Verifies the organisation's archived audit chain from the object store alone.
  npm run admin -- keys status
      Every key of each ring (title, token, receipt, audit): current, previous or retired,
      and what still needs it.
  npm run admin -- keys reencrypt
      Re-seals window titles, TOTP seeds and webhook secrets under the newest title key now, printing progress
      (the worker role does the same in the background, a batch every 30 s).
  npm run admin -- keys retire --ring <title|token|receipt|audit> --key <key id>
      Retires a key once nothing needs it (refused, saying what still does); retired receipt
      and audit keys stay listed at /v1/receipt-keys and /v1/audit-keys.`;

class UsageError extends Error {}

const newPassword = () => randomBytes(12).toString('base64url');

const BACKUP_COMMANDS = new Set(['backup', 'backups', 'restore']);

function backupKeyOf(config: Config): Buffer {
  if (!config.BACKUP_KEY) throw new UsageError('BACKUP_KEY: must be set (32 bytes, base64; `openssl rand -base64 32`), and kept apart from the backups');
  return Buffer.from(config.BACKUP_KEY, 'base64');
}

async function backupCommand(command: string, rest: string[]) {
  const { values } = parseArgs({
    args: rest,
    options: { backup: { type: 'string' }, 'target-database-url': { type: 'string' }, 'target-data-dir': { type: 'string' } },
    strict: true,
  });
  const config = parseConfig({ ...process.env, DEMO_SEED: 'false' });
  const store = openObjectStore(config);
  if (command === 'backups') {
    const found = await listBackups(store);
    if (found.length === 0) process.stdout.write(`No backups in ${store.where}\n`);
    for (const m of found) {
      process.stdout.write(
        `${m.id}  ${m.createdAt}  ${m.source}  ${(m.stored.bytes / 1e6).toFixed(1)} MB  schema ${m.schema.migrations}  ${m.rows.spans} spans, ${m.rows.consentRecords} consent records, ${m.rows.auditLog} audit rows\n`,
      );
    }
    return;
  }
  const key = backupKeyOf(config);
  if (command === 'backup') {
    const m = await backup({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR }, store, key);
    process.stdout.write(
      `Backup ${m.id} written to ${store.where}: ${m.stored.bytes} bytes, sha256 ${m.stored.sha256}\n` +
        `(${m.rows.spans} spans, ${m.rows.consentRecords} consent records, ${m.rows.auditLog} audit rows; schema ${m.schema.migrations} migrations)\n`,
    );
    return;
  }
  if (!values.backup) throw new UsageError('--backup: the id of the backup to restore (see `backups`), or "latest"');
  const targetUrl = values['target-database-url'];
  const targetDir = values['target-data-dir'];
  if ((targetUrl === undefined) === (targetDir === undefined)) throw new UsageError('--target-database-url or --target-data-dir: name one new, empty target');
  if (targetUrl !== undefined && !/^postgres(ql)?:\/\//.test(targetUrl)) throw new UsageError('--target-database-url: must be a postgres:// URL');
  const m = await restore(store, values.backup, key, { databaseUrl: targetUrl, dataDir: targetDir });
  process.stdout.write(
    `Restored backup ${m.id} (${m.createdAt}, checksums verified): ${m.rows.spans} spans, ${m.rows.consentRecords} consent records, ${m.rows.auditLog} audit rows\n` +
      'Start the server on it with the same TITLE_KEY, TOKEN_SECRET and RECEIPT_SIGNING_KEY, then verify the audit chain (Audit log → Verify).\n',
  );
}

async function auditArchiveCommand(command: string, rest: string[]) {
  const { values } = parseArgs({ args: rest, options: { org: { type: 'string' } }, strict: true });
  const config = parseConfig({ ...process.env, DEMO_SEED: 'false' });
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 });
  const cloud = createApp({ config, database, secrets: loadSecrets(config), logger: pino({ level: 'warn' }) });
  try {
    const orgs = await cloud.services.directory.listOrgs();
    const named = values.org?.trim();
    const chosen = named === undefined ? orgs : orgs.filter((o) => o.id === named || o.name.toLowerCase() === named.toLowerCase());
    if (named !== undefined && chosen.length === 0) throw new UsageError(`--org: there is no organisation "${named}"`);
    if (command === 'verify-audit-archive' && named === undefined) throw new UsageError('--org: name the organisation whose archive to verify');
    let failed = false;
    for (const org of chosen) {
      if (command === 'audit-archive') {
        const run = await cloud.services.auditArchive.archive(org.id);
        failed ||= run.problems.length > 0;
        process.stdout.write(
          run.problems.length > 0
            ? `"${org.name}": nothing archived, the chain changed since its last checkpoint (${run.problems.length} findings; see Audit log → Verify)\n`
            : `"${org.name}": ${run.entries} entries archived in ${run.segments} segments to ${cloud.objects.where}, sealed at seq ${run.sealedSeq ?? '-'}\n`,
        );
      } else {
        const result = await cloud.services.auditArchive.verify(org.id);
        failed ||= !result.ok;
        process.stdout.write(
          `"${org.name}": ${result.ok ? 'verifies' : 'DOES NOT VERIFY'}: ${result.entries} entries in ${result.segments} segments, ${result.checkpoints} signed checkpoints, last seq ${result.lastSeq ?? '-'}\n`,
        );
        for (const problem of result.problems.slice(0, 20)) process.stdout.write(`  ${JSON.stringify(problem)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    await cloud.stop();
    await database.close();
  }
}

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
  if (command && BACKUP_COMMANDS.has(command)) return backupCommand(command, rest);
  if (command === 'audit-archive' || command === 'verify-audit-archive') return auditArchiveCommand(command, rest);
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
  if (error instanceof BackupError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
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
