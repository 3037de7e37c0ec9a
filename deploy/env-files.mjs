// Secrets as files: for every NAME_FILE in the environment, the file's content becomes NAME,
// before the cloud reads its configuration. The image loads it into every node process
// (NODE_OPTIONS=--import=/app/deploy/env-files.mjs), so node stays PID 1, `exec … admin.ts`
// sees the same keys, and a key never sits on a command line or in `podman inspect`. Compose
// and Kubernetes mount secrets as files (/run/secrets/…); one trailing newline is dropped.
// NAME and NAME_FILE together, or a file that cannot be read, stop the start naming the variable.
import { readFileSync } from 'node:fs';

const SUFFIX = '_FILE';
for (const [variable, path] of Object.entries(process.env)) {
  if (!variable.endsWith(SUFFIX) || variable.length === SUFFIX.length || !path) continue;
  const name = variable.slice(0, -SUFFIX.length);
  if (process.env[name]) {
    process.stderr.write(`Invalid configuration: ${name} and ${variable} are both set; set one\n`);
    process.exit(2);
  }
  try {
    process.env[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    process.stderr.write(`Invalid configuration: ${variable}: cannot read ${path} (${error instanceof Error ? error.message : String(error)})\n`);
    process.exit(2);
  }
}
