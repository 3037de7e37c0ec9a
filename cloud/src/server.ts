import { ConfigError } from './platform/config';
import { startCloud } from './start';

/** Entry point: start, print how to sign in (secrets only on the start that made them), stop on signals. */
async function main() {
  // Signals are taken from the first moment, so a stop asked for while starting (or just as the
  // sign-in lines are read) still closes cleanly instead of killing the process mid-start.
  let stop: ((signal: string) => void) | undefined;
  let stopAsked: string | undefined;
  const onSignal = (signal: string) => (stop ? stop(signal) : (stopAsked ??= signal));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));

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
  stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Printed even when a stop is already asked for: a password shown once must not go unseen.
  process.stdout.write(`${lines.join('\n')}\n`);
  if (stopAsked) stop(stopAsked);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
