import { ConfigError } from './platform/config';
import { startCloud } from './start';

/** Entry point: start, print how to sign in (secrets only on the start that made them), stop on signals. */
async function main() {
  const running = await startCloud();
  const { bootstrap, url, logger } = running;
  const lines = [`Icarus Nova cloud listening on ${url} (database: ${running.database.kind})`];
  if (bootstrap.created) {
    lines.push(`Admin sign-in: ${bootstrap.adminEmail} / ${bootstrap.adminPassword} (shown once; change it under Account after signing in)`);
    lines.push(`A forgotten admin password: npm run admin -- reset-password --email ${bootstrap.adminEmail}`);
    lines.push(`Enrollment token: ${bootstrap.enrollmentToken}`);
  } else if (bootstrap.adminEmail) {
    lines.push(
      `Admin sign-in: ${bootstrap.adminEmail} (password shown on first start; a new one: npm run admin -- reset-password --email ${bootstrap.adminEmail})`,
    );
  } else if (!bootstrap.orgId) {
    lines.push(
      'No organisation yet. Create the first admin: npm run admin -- create-admin --email you@example.com --name "Your name" --org "Your organisation"',
    );
  } else {
    lines.push('A forgotten admin password: npm run admin -- reset-password --email <email>');
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
