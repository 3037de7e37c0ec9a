// haproxy from Debian in the foreground on loopback, with the repository's edge configuration.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';

const CONFIG = new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url).pathname;

export function requireHaproxy(): void {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('haproxy is not installed: `apt-get install -y haproxy` (.ci/run installs it) to run the edge tests');
  }
}

export interface Edge {
  port: number;
  /** The master process: USR2 reloads, TERM stops. */
  master: ChildProcess;
  output(): string;
  /** `show stat` as rows keyed by column name. */
  stats(): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

export async function startEdge(options: { port: number; certPem: string; runDir: string; clouds: [string, string] }): Promise<Edge> {
  const env = {
    ...process.env,
    ICARUS_EDGE_BIND: `127.0.0.1:${options.port}`,
    ICARUS_EDGE_CERT: options.certPem,
    ICARUS_EDGE_RUN: options.runDir,
    ICARUS_CLOUD_1: options.clouds[0],
    ICARUS_CLOUD_2: options.clouds[1],
  };
  const master = spawn('haproxy', ['-W', '-db', '-f', CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  master.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  master.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const socket = join(options.runDir, 'haproxy.sock');

  const stats = () =>
    new Promise<Record<string, string>[]>((resolve, reject) => {
      let text = '';
      const s = connect(socket, () => s.end('show stat\n'));
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('error', reject);
      s.on('close', () => {
        const [header = '', ...lines] = text.trim().split('\n');
        const columns = header.replace(/^# /, '').split(',');
        resolve(lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i] ?? String(i), v]))));
      });
    });

  const edge: Edge = {
    port: options.port,
    master,
    output: () => output,
    stats,
    async stop() {
      if (master.exitCode !== null) return;
      const exited = new Promise((resolve) => master.once('exit', resolve));
      master.kill('SIGTERM');
      await exited;
    },
  };
  // Ready when both clouds are seen UP by the health checks in both backends.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (master.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    const up = await stats().then(
      (rows) => rows.filter((r) => r.svname?.startsWith('cloud') && r.status === 'UP').length,
      () => 0,
    );
    if (up === 4) return edge;
    if (Date.now() > deadline) {
      await edge.stop();
      throw new Error(`haproxy backends did not come up: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
