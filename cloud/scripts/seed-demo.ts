import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import type { CloudApp } from '../src/app';
import { createApp } from '../src/app';
import { bootstrapDemoOrg, DEMO_ADMIN_EMAIL } from '../src/bootstrap';
import { parseConfig } from '../src/platform/config';
import { createConsentModule, defaultPolicy } from '../src/modules/consent';
import { openDatabase, type Database } from '../src/platform/db/client';
import { loadSecrets, type Secrets } from '../src/platform/secrets';
import { addDays } from '@icarus/shared';

export const DEMO_MANAGER_EMAIL = 'manager@demo.icarus.local';
export const DEMO_MANAGER_PASSWORD = 'demo-manager-password';
/** One employee of the demo org who can sign in, to see an employee's home and My data. */
export const DEMO_EMPLOYEE_EMAIL = 'person0@demo.icarus.local';
export const DEMO_EMPLOYEE_PASSWORD = 'demo-employee-password';

/** The audit entry a finished seed writes last: an org without it was never seeded, or not to the end. */
const SEEDED = 'demo.seeded';

/** The demo org holds a seed that stopped before its end (interrupted): people, maybe spans, no rollups. */
export class SeedUnfinished extends Error {
  constructor(readonly people: number) {
    super(
      `the demo org holds ${people} people but its seed never finished (no ${SEEDED} entry in its audit log): ` +
        'drop the database (or remove DATA_DIR for the embedded one) and run npm run seed:demo again',
    );
    this.name = 'SeedUnfinished';
  }
}

export interface SeedOptions {
  employees: number;
  teams: number;
  days: number;
  /** Spans per person per working day (device-merged spans are long: ~4 an hour). */
  spansPerDay: number;
}
export const DEMO_SIZE: SeedOptions = { employees: 1000, teams: 60, days: 90, spansPerDay: 36 };

const TEAM_KINDS = ['Engineering', 'Sales', 'Design', 'Support'] as const;
/** Weighted app mixes per kind of team (repeats are weights); SQL picks one per span. */
const APP_MIX: Record<(typeof TEAM_KINDS)[number], string[]> = {
  Engineering: ['Code', 'Code', 'Code', 'gnome-terminal', 'gnome-terminal', 'firefox', 'firefox', 'Slack', 'zoom', 'thunderbird', 'spotify'],
  Sales: ['Microsoft Outlook', 'Microsoft Outlook', 'Google-chrome', 'Google-chrome', 'zoom', 'zoom', 'Slack', 'Microsoft Excel', 'Salesforce', 'youtube'],
  Design: ['Figma', 'Figma', 'Figma', 'Google-chrome', 'Slack', 'Slack', 'zoom', 'Inkscape', 'spotify'],
  Support: ['Google-chrome', 'Google-chrome', 'Zendesk', 'Zendesk', 'Slack', 'Slack', 'thunderbird', 'zoom', 'LibreOffice-writer', 'reddit'],
};

/**
 * Fills the database with a realistic org: people and teams through the directory import,
 * devices through enrollment, consent through the consent module (dated before the
 * spans), then spans from ingestion's workload generator and rollups rebuilt from them:
 * every step through a module's services.
 */
export async function seedDemo(
  cloud: CloudApp,
  database: Database,
  secrets: Secrets,
  options: SeedOptions = DEMO_SIZE,
  log: (line: string) => void = () => {},
) {
  const { services } = cloud;
  const started = performance.now();
  const boot = await bootstrapDemoOrg(cloud);
  const orgId = boot.orgId;
  const org = await services.directory.findOrg(orgId);
  if (!org) throw new Error('demo org missing');
  const existing = await services.directory.listMembers(orgId);
  const [finished] = await services.audit.search(orgId, { action: SEEDED }, { limit: 1 });
  if (finished) {
    log(`Demo org already seeded (${existing.length} people, ${finished.at.toISOString()}); nothing to do.`);
    return { orgId, created: false, admin: undefined, seededAt: finished.at };
  }
  // More than the admin the bootstrap makes, and no record of the end: a seed stopped part-way.
  if (existing.length > 1) throw new SeedUnfinished(existing.length);
  // A policy that lets managers see individuals, so the person-level pages can be tried.
  await services.consent.publish(orgId, { ...defaultPolicy(org.name), managersSeeIndividuals: true }, { type: 'system', id: 'seed-demo' });

  const admin = existing.find((m) => m.role === 'admin');
  await services.directory.createUser({ orgId, email: DEMO_MANAGER_EMAIL, name: 'Morgan Demo (manager)', role: 'manager', password: DEMO_MANAGER_PASSWORD });
  const lines = ['email,name,osUser,team,managerEmail,role'];
  const teamName = (t: number) => `${TEAM_KINDS[t % TEAM_KINDS.length]} ${String(Math.floor(t / TEAM_KINDS.length) + 1).padStart(2, '0')}`;
  for (let t = 0; t < options.teams; t++) {
    const manager = t === 0 ? DEMO_MANAGER_EMAIL : `manager${t}@demo.icarus.local`;
    lines.push(`${manager},${t === 0 ? 'Morgan Demo (manager)' : `Manager ${t}`},,${teamName(t)},,manager`);
  }
  for (let i = 0; i < options.employees; i++) {
    const t = i % options.teams;
    const manager = t === 0 ? DEMO_MANAGER_EMAIL : `manager${t}@demo.icarus.local`;
    lines.push(
      `person${i}@demo.icarus.local,${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i},person${i},${teamName(t)},${manager},employee`,
    );
  }
  await services.importer.importCsv({ orgId, actorUserId: admin?.id ?? 'seed-demo', text: lines.join('\n'), dryRun: false });
  log(`directory: ${options.teams} teams, ${options.employees} people (${Math.round(performance.now() - started)} ms)`);
  // Imported people have no password (they are invited); one gets a known one for the demo.
  const employee = await services.directory.findUserByEmail(orgId, DEMO_EMPLOYEE_EMAIL);
  if (employee) await services.directory.setPassword(employee.id, DEMO_EMPLOYEE_PASSWORD);

  // Devices enroll as the agent would; one key pair serves the whole demo fleet.
  const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = await exportJWK(publicKey);
  const consentStart = new Date(Date.now() - (options.days + 1) * 86_400_000);
  // The consent module on a clock of its own, so decisions are dated before the spans.
  const backdated = createConsentModule({
    database,
    audit: services.audit,
    directory: services.directory,
    bindings: services.bindings,
    devices: services.devices,
    receiptKeys: secrets.receiptKeys,
    receiptContext: services.receiptContext,
    publicUrl: () => 'http://localhost',
    // The running cloud's bus: its cached timelines hear of the decisions made here.
    bus: services.bus,
    now: () => consentStart,
  }).service;
  const policy = await services.consent.currentPolicy(orgId);
  const devices: { device: string; user: string; kind: number }[] = [];
  const members = new Map((await services.directory.listMembers(orgId)).map((m) => [m.email, m]));
  const teamIndex = new Map((await services.directory.listTeams(orgId)).map((t) => [t.id, t.name]));
  // Twenty at a time: each step is a few round trips, mostly waiting on the database.
  const enrollOne = async (i: number) => {
    const member = members.get(`person${i}@demo.icarus.local`);
    if (!member) return;
    // A per-user token, as IT deploys one by MDM to each person's laptop: it binds the device to them.
    const token = await services.devices.createEnrollmentToken({
      orgId,
      userId: member.id,
      label: `laptop-${i}`,
      validDays: 1,
      maxUses: 1,
      createdBy: admin?.id ?? null,
    });
    // Enrolled when their consent was given, before the history they send: ingestion refuses spans from before either.
    const enrolled = await services.devices.enroll(
      {
        enrollmentToken: token.token,
        deviceName: `laptop-${i}`,
        platform: i % 5 === 0 ? 'darwin' : i % 3 === 0 ? 'win32' : 'linux',
        osUser: `person${i}`,
        publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) },
        agentVersion: i % 10 === 0 ? '0.9.2' : '1.0.0',
      },
      consentStart,
    );
    // A few people declined or withdrew, so consent coverage has something to show.
    const decision = i % 50 === 7 ? 'declined' : 'granted';
    await backdated.decide(await services.devices.requireActive(enrolled.deviceId), {
      policyVersion: policy.version,
      scopes: decision === 'granted' ? ['app_usage', 'idle'] : [],
      decision,
      method: 'tray-dialog',
    });
    await services.devices.recordSync(
      { deviceId: enrolled.deviceId, orgId, userId: member.id },
      {
        agentVersion: i % 10 === 0 ? '0.9.2' : '1.0.0',
        pendingSpans: i % 13,
        droppedSpans: i % 97 === 0 ? 12 : 0,
        captureSources: [],
      },
    );
    const kind = TEAM_KINDS.indexOf((teamIndex.get(member.teamId ?? '') ?? 'Engineering').split(' ')[0] as (typeof TEAM_KINDS)[number]);
    if (decision === 'granted') devices.push({ device: enrolled.deviceId, user: member.id, kind: Math.max(0, kind) });
  };
  for (let i = 0; i < options.employees; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, options.employees - i) }, (_, j) => enrollOne(i + j)));
  }
  log(`devices and consent: ${devices.length} granted (${Math.round(performance.now() - started)} ms)`);

  const to = new Date();
  const from = new Date(to.getTime() - options.days * 86_400_000);
  await services.ingestion.ensureDailyPartitions(from, new Date(to.getTime() + 8 * 86_400_000));
  await services.ingestion.insertGeneratedSpans({
    orgId,
    timeZone: org.timeZone,
    people: devices.map((d) => ({ userId: d.user, deviceId: d.device, mix: d.kind })),
    mixes: TEAM_KINDS.map((k) => APP_MIX[k]),
    from,
    to,
    spansPerDay: options.spansPerDay,
  });
  log(`spans inserted (${Math.round(performance.now() - started)} ms)`);

  const { today } = await services.analytics.orgCalendar(orgId);
  await services.analytics.rebuild(orgId, addDays(today, -options.days - 1), today);
  await services.analytics.analyzeRollups();
  log(`rollups built and analysed (${Math.round(performance.now() - started)} ms)`);
  // Written last: only a seed that got this far counts as done.
  await services.audit.record({ orgId, actorType: 'system', actorId: 'seed-demo', action: SEEDED, details: { ...options } });
  return { orgId, seededAt: new Date(), created: true, admin: boot.created ? { email: boot.adminEmail, password: boot.adminPassword ?? '' } : undefined };
}

const FIRST = [
  'Ada',
  'Ben',
  'Chen',
  'Dana',
  'Emil',
  'Fatima',
  'Goran',
  'Hana',
  'Ines',
  'Jonas',
  'Kemal',
  'Lea',
  'Mateo',
  'Nora',
  'Oskar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tariq',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
  'Zoe',
];
const LAST = [
  'Adler',
  'Berger',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Hoffmann',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Meyer',
  'Novak',
  'Okafor',
  'Petrov',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Weber',
];

/** `npm run seed:demo`: the database named by DATABASE_URL, or PGlite under DATA_DIR. */
async function main() {
  const config = parseConfig({ ...process.env, DEMO_SEED: 'true' });
  // PGlite is one process's database: seeding it under a running server would corrupt it.
  if (!config.DATABASE_URL) {
    const running = await fetch(`http://127.0.0.1:${config.PORT}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (running) {
      throw new Error(
        `a server is running on port ${config.PORT} with the embedded database (PGlite), which only one process may open: stop it (Ctrl+C), run npm run seed:demo, then npm start again`,
      );
    }
    process.stdout.write('Seeding the embedded database (PGlite); this takes several minutes (2.2 million spans)...\n');
  }
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 4 });
  const secrets = loadSecrets(config);
  const cloud = createApp({ config, database, secrets, logger: pino({ level: 'warn' }) });
  await cloud.start();
  try {
    await cloud.services.ingestion.preparePartitions(new Date());
    const result = await seedDemo(cloud, database, secrets, DEMO_SIZE, (line) => process.stdout.write(`${line}\n`));
    if (!result.created) process.stdout.write('Already seeded.\n');
    else {
      const lines = ['Seeded. Sign in as:'];
      lines.push(
        result.admin
          ? `  admin:    ${result.admin.email} / ${result.admin.password} (shown once)`
          : `  admin:    ${DEMO_ADMIN_EMAIL} (password shown when it was made; a new one: npm run admin -- reset-password --email ${DEMO_ADMIN_EMAIL})`,
      );
      lines.push(`  manager:  ${DEMO_MANAGER_EMAIL} / ${DEMO_MANAGER_PASSWORD}`);
      lines.push(`  employee: ${DEMO_EMPLOYEE_EMAIL} / ${DEMO_EMPLOYEE_PASSWORD}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    await cloud.stop();
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`seed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
