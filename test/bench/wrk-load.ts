import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WIRE_PATHS } from '@icarus/shared';

/** One prepared request: the device's bearer token and its gzip batch. */
export interface PreparedBatch {
  token: string;
  gzip: Uint8Array;
  /** Spans in the batch (the same in every batch of a run): a 200 that stores fewer is a failure of the workload. */
  count: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  failures: number;
  firstFailure: string;
}

/** Whether wrk (Debian's `wrk` package) is on this machine. */
export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
}

/**
 * Sends each prepared batch once, in order, over `concurrency` keep-alive connections of one wrk
 * thread, for `seconds`. A load generator written in C costs a fraction of the CPU that Node's
 * fetch does, so on a machine of two cores the server gets the cores the figure is about. The
 * batches are read into wrk before its clock starts; when they run out, wrk sends the first ones
 * again, and their answers (duplicates, not stored) count as failures, so prepare more than the
 * server can take.
 */
export async function wrkRun(url: string, batches: readonly PreparedBatch[], concurrency: number, seconds: number): Promise<WrkResult> {
  // wrk's answer hook is not told which request an answer is for: every batch of a run has one size.
  const count = batches[0]?.count ?? 0;
  if (batches.some((b) => b.count !== count)) throw new Error('wrkRun: every batch of a run must have the same number of spans');
  const dir = mkdtempSync(join(tmpdir(), 'icarus-wrk-'));
  try {
    // One file of bodies and an index of "offset length token" lines: no JSON parser needed in Lua.
    const index: string[] = [];
    let offset = 0;
    for (const b of batches) {
      index.push(`${offset} ${b.gzip.byteLength} ${b.token}`);
      offset += b.gzip.byteLength;
    }
    writeFileSync(join(dir, 'bodies.bin'), Buffer.concat(batches.map((b) => b.gzip)));
    writeFileSync(join(dir, 'index.txt'), `${index.join('\n')}\n`);
    writeFileSync(join(dir, 'load.lua'), LUA_SCRIPT);
    const { stdout } = await promisify(execFile)(
      'wrk',
      ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(dir, 'load.lua'), `${url}${WIRE_PATHS.ingest}`, dir, String(count)],
      { maxBuffer: 16 * 2 ** 20 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length)) as {
      requests: number;
      durationUs: number;
      p50Us: number;
      p95Us: number;
      p99Us: number;
      refused: number;
      socketErrors: number;
      firstFailure: string;
    };
    return {
      requestsPerSecond: r.requests / (r.durationUs / 1e6),
      p50Ms: r.p50Us / 1000,
      p95Ms: r.p95Us / 1000,
      p99Ms: r.p99Us / 1000,
      requests: r.requests,
      failures: r.refused + r.socketErrors,
      firstFailure: r.firstFailure,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The wrk script. `init` reads the bodies and formats every request once; `request` hands them
 * out in order; `response` counts answers that did not store the whole batch (kept per thread and
 * read by `done` through the thread objects `setup` collects).
 */
const LUA_SCRIPT = String.raw`
local threads = {}
function setup(thread) table.insert(threads, thread) end

local prepared, n, next_one, expected = {}, 0, 1, ""
refused, first_failure = 0, ""
function init(args)
  local dir = args[1]
  expected = '"accepted":' .. args[2] .. ','
  local f = assert(io.open(dir .. "/bodies.bin", "rb"))
  local data = f:read("*a")
  f:close()
  for line in io.lines(dir .. "/index.txt") do
    local offset, length, token = line:match("^(%d+) (%d+) (%S+)$")
    offset, length = tonumber(offset), tonumber(length)
    n = n + 1
    prepared[n] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Content-Encoding"] = "gzip",
      ["Authorization"] = "Bearer " .. token,
    }, data:sub(offset + 1, offset + length))
  end
end

function request()
  local i = next_one
  next_one = next_one % n + 1
  return prepared[i]
end

function response(status, headers, body)
  if status ~= 200 or not body:find(expected, 1, true) then
    refused = refused + 1
    if first_failure == "" then first_failure = (status .. " " .. body:sub(1, 200)):gsub('[%c"\\]', "'") end
  end
end

function done(summary, latency, requests)
  local refused_all, first = 0, ""
  for _, t in ipairs(threads) do
    refused_all = refused_all + t:get("refused")
    if first == "" then first = t:get("first_failure") end
  end
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p95Us":%d,"p99Us":%d,"refused":%d,"socketErrors":%d,"firstFailure":"%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    refused_all, e.connect + e.read + e.write + e.timeout, first))
end
`;
