// Test-only: what the fuzz tests of the public APIs share. Hostile values and mutations of
// valid bodies (fast-check arbitraries), requests with arbitrary headers and query strings,
// a snapshot of everything stored, and the check every answer must pass: never a 5xx, an
// error in the shared shape that names a field for bad input, and nothing stored changed by
// a refusal.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect } from 'vitest';
import { ApiError } from '@icarus/shared';
import type { RateLimitStore } from '../../src/platform/http/rate-limit';
import type { TestCloud } from './cloud';

/** Runs per property: small by default so a file stays well under a minute; FUZZ_RUNS=5000 for a long run. */
export function fuzzRuns(base: number): number {
  const asked = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : base;
}

/**
 * fast-check options: a fixed seed unless FUZZ_SEED says otherwise, so a failure reproduces
 * (fast-check prints the seed and the path of the shrunk case with it).
 */
export function fuzzOptions<T>(base: number): fc.Parameters<T> {
  const seed = Number(process.env.FUZZ_SEED ?? '20261125');
  return { numRuns: fuzzRuns(base), seed, endOnFailure: false };
}

/** A test timeout that grows with FUZZ_RUNS: a guard against a hang, generous for a loaded machine, not a speed goal. */
export function fuzzTimeout(base: number, msPerRun = 1000): number {
  return 60_000 + fuzzRuns(base) * msPerRun;
}

/**
 * Stops the cloud's own background work (the outbox worker, the cron scheduler), so that a
 * change between two snapshots is always the request's: the worker would otherwise deliver
 * notices queued by earlier requests, as agent messages, in the middle of a later one.
 */
export async function quiet(cloud: TestCloud): Promise<void> {
  await cloud.cloud.services.notificationWorker.stop();
  await cloud.cloud.services.scheduler.stop();
}

/** Rate limits never refuse here: a fuzz run sends far more than any client may, and a 429 would hide the route. */
export const unlimited: RateLimitStore = { take: async () => 0 };

/** Strings no form or JSON field should choke on: NUL, lone surrogates, huge, numeric-looking, dates at the edges. */
export const nastyStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '\ud83d\ude00',
  '\u202e\u0301',
  '\r\n',
  '\t',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '0',
  '-0',
  '1e309',
  '9007199254740993',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  "'; drop table spans; --",
  '%00',
  '%',
  '%zz',
  '../../etc/passwd',
  '0000-01-01',
  '0001-01-01',
  '9999-12-31',
  '2026-02-30',
  '2024-02-29',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.000Z',
  '1970-01-01T00:00:00Z',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '019a0000-0000-7000-8000-000000000001',
  'a'.repeat(513),
  'é'.repeat(5000),
  '\ud83d'.repeat(100),
  '(a+)+$',
  '[',
  '(?<x>a)',
  '\\',
] as const;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n));
const control = fc.integer({ min: 0, max: 0x1f }).map((n) => String.fromCharCode(n));

/** Ordinary text with one thing no database column holds slipped in: NUL or a lone surrogate. */
const poisoned = fc
  .tuple(fc.string({ maxLength: 12 }), fc.constantFrom('\u0000', '\ud800', '\udfff'), fc.string({ maxLength: 12 }))
  .map(([a, poison, b]) => `${a}${poison}${b}`);

/** Arbitrary text: plain, any code point, with lone surrogates, NULs and controls mixed in, or a known nasty one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 3, arbitrary: poisoned },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), loneSurrogate, control), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)) },
);

/** Numbers JSON can carry that no field expects: huge, negative, fractional, -0, past 2^53. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324, 1e21, 86_400_000 * 1e6),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, shallow or deep; deep nesting is built as text by `deepJson` below. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 5 }) },
);

type Json = unknown;
type Path = (string | number)[];

function pathsOf(value: Json, at: Path = []): Path[] {
  const here: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => here.push(...pathsOf(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) here.push(...pathsOf(v, [...at, k]));
  return here;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Sets, or with `undefined` removes, the value at `path`; the root path replaces the whole body. */
function setAt(root: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value;
  const copy = clone(root);
  let node: unknown = copy;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
  const last = path[path.length - 1] as string | number;
  if (Array.isArray(node) && typeof last === 'number') {
    if (value === undefined) node.splice(last, 1);
    else node[last] = value;
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (value === undefined) delete record[String(last)];
    else record[String(last)] = value;
  }
  return copy;
}

function getAt(root: Json, path: Path): Json {
  let node: unknown = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

function mapStrings(value: Json, f: (s: string) => string): Json {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

/** A JSON text nested `depth` deep, as arrays or objects. */
function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * A body near a valid one, as JSON text: the valid body itself, or one mutation of it (a field
 * dropped, its value swapped for a hostile one or a value of another type, an unknown field, an
 * array item repeated hundreds of times, a duplicate key), or broken JSON outright.
 */
export function nearValidBody(valid: fc.Arbitrary<Json>): fc.Arbitrary<string> {
  const mutated = valid.chain((body) => {
    const paths = pathsOf(body);
    const somePath = fc.constantFrom(...paths);
    const objectPaths = paths.filter((p) => {
      const v = getAt(body, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const arrayPaths = paths.filter((p) => Array.isArray(getAt(body, p)) && (getAt(body, p) as unknown[]).length > 0);
    const mutations: fc.Arbitrary<string>[] = [
      // drop a field or an item
      somePath.filter((p) => p.length > 0).map((p) => JSON.stringify(setAt(body, p, undefined))),
      // a hostile value anywhere (most often: it is what finds a field the schema lets through)
      fc.tuple(somePath, hostileValue).map(([p, v]) => JSON.stringify(setAt(body, p, v))),
      fc.tuple(somePath, hostileString).map(([p, v]) => JSON.stringify(setAt(body, p, v))),
      fc.tuple(somePath, hostileString).map(([p, v]) => JSON.stringify(setAt(body, p, v))),
      // every string at once with a NUL or lone surrogate in it: any text field that lets one through is found in one case
      fc.constantFrom('\u0000', '\ud800', '\udc00').map((poison) => JSON.stringify(mapStrings(body, (v) => `${v.slice(0, 1)}${poison}${v.slice(1)}`))),
      fc.constant(JSON.stringify(mapStrings(body, (v) => `${v.slice(0, 1)}\u0000${v.slice(1)}`))),
      // the same value with another type
      somePath.map((p) => {
        const v = getAt(body, p);
        const swapped =
          typeof v === 'string'
            ? Number.isNaN(Number(v))
              ? [v]
              : Number(v)
            : typeof v === 'number'
              ? String(v)
              : v === null
                ? 0
                : typeof v === 'boolean'
                  ? String(v)
                  : null;
        return JSON.stringify(setAt(body, p, swapped));
      }),
    ];
    if (objectPaths.length > 0) {
      mutations.push(
        fc
          .tuple(fc.constantFrom(...objectPaths), fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'toString')), hostileValue)
          .map(([p, key, v]) => {
            // JSON.stringify drops a __proto__ set by assignment; write the key into the text itself.
            const target = getAt(body, p) as Record<string, unknown>;
            const inner = JSON.stringify(target);
            const extra = `${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'}`;
            const replaced = inner === '{}' ? `{${extra}}` : `{${extra},${inner.slice(1)}`;
            return p.length === 0 ? replaced : JSON.stringify(setAt(body, p, '\u0001MARK\u0001')).replace(JSON.stringify('\u0001MARK\u0001'), replaced);
          }),
      );
      // duplicate keys: the last one wins in JSON.parse, so put the hostile one last
      mutations.push(
        fc.tuple(fc.constantFrom(...objectPaths.filter((p) => p.length === 0)), hostileValue).chain(([, v]) => {
          const keys = Object.keys(body as Record<string, unknown>);
          if (keys.length === 0) return fc.constant(JSON.stringify(body));
          return fc.constantFrom(...keys).map((key) => `${JSON.stringify(body).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'}}`);
        }),
      );
    }
    if (arrayPaths.length > 0) {
      mutations.push(
        fc.tuple(fc.constantFrom(...arrayPaths), fc.integer({ min: 2, max: 1500 })).map(([p, times]) => {
          const items = getAt(body, p) as unknown[];
          return JSON.stringify(
            setAt(
              body,
              p,
              Array.from({ length: times }, () => items[0]),
            ),
          );
        }),
      );
    }
    return fc.oneof(...mutations);
  });
  const broken = fc.oneof(
    fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '1e999999', '{"a":', '{"a":1,}', '\u0000', '\ufeff{}', 'NaN', '{"__proto__":{"x":1}}'),
    fc.tuple(fc.integer({ min: 1000, max: 200_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => deepJson(d, k)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 64 }),
  );
  return fc.oneof({ weight: 2, arbitrary: valid.map((v) => JSON.stringify(v)) }, { weight: 12, arbitrary: mutated }, { weight: 3, arbitrary: broken });
}

/** Header values HTTP can carry (tab and latin-1 but DEL): anything else the client refuses to send. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((n) => String.fromCharCode(n)), maxLength: 60 }),
  fc.constantFrom('', 'null', 'undefined', ' ', '\t', 'x'.repeat(4000)),
);

/** Mostly right, sometimes wrong: the content type, encoding and credentials a request carries. */
export function contentType(right: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(right) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        `${right}; charset=utf-8`,
        `${right}; charset=latin1`,
        right.toUpperCase(),
        `${right}x`,
        'text/plain',
        'text/csv',
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        'multipart/form-data',
        '*/*',
      ),
    },
    { weight: 1, arbitrary: headerValue },
  );
}

export type Encoding = 'none' | 'gzip' | 'gzip-label-only' | 'other';
export const encoding: fc.Arbitrary<{ kind: Encoding; header?: string }> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'gzip' as const, header: 'gzip' }) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'GZIP', 'x-gzip').map((header) => ({ kind: 'gzip-label-only' as const, header })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.constantFrom('br', 'deflate', 'identity', 'gzip, gzip', 'compress', ''), headerValue)
      .map((header) => ({ kind: 'other' as const, header })),
  },
);

/**
 * Query strings: the right parameters with hostile values, repeated, unknown, or raw bytes.
 * `together` gives parameters that only mean something as a set (a range's two ends); they
 * come first, and the pairs after them may repeat or contradict them.
 */
export function queryString(params: Record<string, fc.Arbitrary<string>>, together?: fc.Arbitrary<Record<string, string>>): fc.Arbitrary<string> {
  const names = Object.keys(params);
  const pair = fc.oneof(
    ...names.map((name) =>
      fc.tuple(fc.constant(name), fc.oneof({ weight: 4, arbitrary: params[name] as fc.Arbitrary<string> }, { weight: 1, arbitrary: hostileString })),
    ),
    fc.tuple(names.length > 0 ? fc.oneof(hostileString, fc.constantFrom(...names)) : hostileString, hostileString),
  );
  const base = together ? fc.option(together, { nil: undefined }) : fc.constant(undefined);
  const extra = fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(pair, { minLength: 1, maxLength: 4 }) });
  const encoded = fc.tuple(base, extra).map(([set, more]) => {
    const pairs = [...Object.entries(set ?? {}), ...more];
    const search = new URLSearchParams();
    for (const [k, v] of pairs) search.append(wellFormed(k).slice(0, 2000), wellFormed(v).slice(0, 4000));
    return search.toString();
  });
  // Raw text after '?': bad percent escapes, lone surrogates escaped by hand, no '=' at all.
  const raw = fc.constantFrom(
    '%',
    '%zz',
    '%00',
    '%ed%a0%80',
    '=',
    '&&&',
    'from',
    'from=&to=',
    'a=%ff%fe',
    `${names[0] ?? 'x'}=%00`,
    `${names[0] ?? 'x'}=%ed%b0%80`,
  );
  // Node answers 431 itself for a request head over 16 KiB, before any route: stay below it.
  return fc.oneof({ weight: 6, arbitrary: encoded }, { weight: 1, arbitrary: raw }).map((q) => q.slice(0, 8000));
}

/** URLSearchParams replaces lone surrogates with U+FFFD anyway; doing it here keeps shrinking honest. */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

export interface FuzzRequest {
  method: string;
  path: string;
  query?: string;
  headers: Record<string, string | undefined>;
  body?: string;
  encoding?: { kind: Encoding; header?: string };
}

/**
 * Sends the request over the loopback socket with node:http, the body gzipped when the case
 * says so: unlike fetch, it sends any latin-1 header value as given (an empty content type too).
 */
export function send(cloud: TestCloud, req: FuzzRequest): Promise<Response> {
  let body: Buffer | undefined = req.body === undefined || req.method === 'GET' ? undefined : Buffer.from(req.body);
  if (body && req.encoding?.kind === 'gzip') body = gzipSync(body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
  if (req.encoding?.header !== undefined) headers['content-encoding'] = req.encoding.header;
  if (body) headers['content-length'] = String(body.byteLength);
  const target = new URL(cloud.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      // A connection per request: a server that refuses a body early closes the socket, and a kept-alive one would be reused half-closed.
      { host: target.hostname, port: target.port, agent: false, method: req.method, path: `${req.path}${req.query ? `?${req.query}` : ''}`, headers },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const answer = new Headers();
          for (const [k, v] of Object.entries(incoming.headers)) if (typeof v === 'string') answer.set(k, v);
          const status = incoming.statusCode ?? 0;
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: answer }));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * Tables a refusal may change, and why:
 * - audit_log: refusals that matter are audited (a wrong password, a refused pairing code, spans refused);
 * - sign_in_failures, sign_in_accounts, sign_in_rate: counting wrong passwords towards the sign-in throttle is what a refusal is for;
 * - scheduler_runs: the scheduler claims its ticks on its own clock, whatever requests arrive.
 * Sessions are compared without last_seen_at and expires_at: an authenticated request slides
 * its session's idle expiry before the route refuses the input.
 */
export const REFUSAL_MAY_CHANGE = ['audit_log', 'sign_in_failures', 'sign_in_accounts', 'sign_in_rate', 'scheduler_runs'] as const;
const SLIDING_COLUMNS: Record<string, string[]> = { sessions: ['last_seen_at', 'expires_at'] };

export type Snapshot = Record<string, { rows: number; hash: string }>;

/** Counts and an md5 over the rows of every table (partitions through their parent) but those above. */
export async function snapshot(cloud: TestCloud): Promise<Snapshot> {
  // Work an earlier accepted request started (rollups of new spans, rebuilds after a rule
  // change, an erasure) settles first.
  await cloud.cloud.services.rights.idle();
  await cloud.cloud.services.analytics.idle();
  await cloud.cloud.services.analytics.flush();
  const tables = await cloud.database.rows<{ name: string }>(
    sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
  );
  const compared = tables.map((t) => t.name).filter((name) => !(REFUSAL_MAY_CHANGE as readonly string[]).includes(name));
  const parts = compared.map((name) => {
    const drop = (SLIDING_COLUMNS[name] ?? []).map((col) => ` - '${col}'`).join('');
    return `select '${name}' as name, count(*)::int as rows, md5(coalesce(string_agg(x, E'\\n' order by x), '')) as hash
            from (select (to_jsonb(r)${drop})::text as x from "${name}" r) s`;
  });
  const found = await cloud.database.rows<{ name: string; rows: number; hash: string }>(sql.raw(parts.join(' union all ')));
  return Object.fromEntries(found.map((r) => [r.name, { rows: Number(r.rows), hash: r.hash }]));
}

export interface Checked {
  status: number;
  error?: ApiError['error'];
}

/**
 * The property every answer holds: no 5xx; a JSON error in the shared shape on /api and /v1
 * (pages answer HTML); a 400 names at least one field; and after any refusal, nothing stored
 * differs from `before`. Returns the snapshot to compare the next request with.
 */
export async function expectSafeAnswer(cloud: TestCloud, req: FuzzRequest, res: Response, before: Snapshot): Promise<{ checked: Checked; after: Snapshot }> {
  const text = await res.text();
  const where = `${req.method} ${req.path}${req.query ? `?${req.query.slice(0, 200)}` : ''} -> ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  const checked: Checked = { status: res.status };
  const jsonRoute = req.path.startsWith('/api/') || req.path.startsWith('/v1/');
  if (res.status >= 400 && jsonRoute) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const parsed = ApiError.safeParse(body);
    expect(parsed.success, `error body not in the shared shape: ${where}`).toBe(true);
    if (parsed.success) {
      checked.error = parsed.data.error;
      if (res.status === 400) {
        expect(parsed.data.error.fields?.length ?? 0, `a 400 names no field: ${where}`).toBeGreaterThan(0);
        for (const f of parsed.data.error.fields ?? []) expect(f.path, `a field without a path: ${where}`).not.toBe('');
      }
    }
  }
  const after = await snapshot(cloud);
  if (res.status >= 400) {
    const changed = Object.keys({ ...before, ...after })
      .filter((t) => before[t]?.hash !== after[t]?.hash)
      .map((t) => `${t} (${before[t]?.rows ?? 0} -> ${after[t]?.rows ?? 0} rows)`);
    expect(changed, `a refusal changed stored rows: ${where}`).toEqual([]);
  }
  return { checked, after };
}

/** What a run saw, printed once per property so a long run can report its counts. */
export class Tally {
  private readonly byStatus = new Map<number, number>();
  cases = 0;
  count(status: number) {
    this.cases++;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
  accepted(): number {
    return [...this.byStatus].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
  }
  toString() {
    return `${this.cases} cases (${[...this.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}: ${c}`)
      .join(', ')})`;
  }
}

/**
 * Sends every generated request and checks each answer with expectSafeAnswer; prints what
 * the statuses were. A case that fails leaves the next one compared with a fresh snapshot,
 * so shrinking looks at one request at a time.
 */
export async function fuzzRoute(cloud: TestCloud, label: string, requests: fc.Arbitrary<FuzzRequest>, runs: number): Promise<Tally> {
  await quiet(cloud);
  const tally = new Tally();
  let before = await snapshot(cloud);
  await fc.assert(
    fc.asyncProperty(requests, async (req) => {
      try {
        const res = await send(cloud, req);
        const { checked, after } = await expectSafeAnswer(cloud, req, res, before);
        before = after;
        tally.count(checked.status);
      } catch (error) {
        before = await snapshot(cloud);
        throw error;
      }
    }),
    fuzzOptions(runs),
  );
  console.info(`fuzz ${label}: ${tally}`);
  return tally;
}

/**
 * A urlencoded form near a valid one: the valid fields, or one dropped, given a hostile value,
 * repeated, joined by unknown fields, or raw bytes that are no form at all (bad escapes, %00,
 * an escaped lone surrogate).
 */
export function nearValidForm(valid: fc.Arbitrary<Record<string, string>>): fc.Arbitrary<string> {
  const encode = (pairs: [string, string][]) => {
    const form = new URLSearchParams();
    for (const [k, v] of pairs) form.append(wellFormed(k), wellFormed(v));
    return form.toString();
  };
  const mutated = valid.chain((fields) => {
    const pairs = Object.entries(fields);
    const names = Object.keys(fields);
    const at = fc.nat({ max: Math.max(0, pairs.length - 1) });
    return fc.oneof(
      at.map((i) => encode(pairs.filter((_, j) => j !== i))),
      fc.tuple(at, hostileString).map(([i, v]) => encode(pairs.map(([k, old], j) => [k, j === i ? v : old]))),
      fc.tuple(at, hostileString).map(([i, v]) => encode([...pairs, [names[i] ?? 'x', v]])),
      fc.tuple(hostileString, hostileString).map(([k, v]) => encode([...pairs, [k, v]])),
      fc
        .constantFrom('%zz', '%', '%00', '%ed%a0%80', '%ff', '&&==&&', '=x')
        .chain((raw) => fc.constantFrom(...names).map((name) => `${encode(pairs)}&${encodeURIComponent(name)}=${raw}`)),
      fc.constantFrom('%zz', '%ed%a0%80', '%00', '===', '').map((raw) => `${encode(pairs.slice(1))}&${raw}`),
    );
  });
  return fc.oneof({ weight: 2, arbitrary: valid.map((fields) => encode(Object.entries(fields))) }, { weight: 8, arbitrary: mutated });
}
