// Read and write throughput of the API against a bare Fastify handler, in one run. autocannon
// (in this process) drives each route after a one-second warm-up, BENCH_ROUNDS times (default 2)
// for BENCH_SECONDS (default 5) against bench/support/bare-fastify.ts (its own process, answering
// the same bodies agentplane answered, with no auth, validation or database) and then against the
// built API (PostgreSQL with DATABASE_URL, else embedded), at the default log level:
//   GET /healthz, GET /v1/agents/{id} and GET /v1/agents?limit=20 at 50 connections,
//   POST /v1/agents (an entry with an inline key, sealed and stored) at 20 connections.
// Prints requests per second of each, the ratio, latency p50/p99 and the API's CPU time per
// request and that of the PostgreSQL server's processes (from /proc; 10 ms ticks, summed over the
// whole run of a route). BENCH_ROUTES=<part,...> runs only the routes whose name holds one. BENCH_CPU_PROF=<dir>
// makes the API write a V8 CPU profile there (read it with bench/support/profile-top.ts). The API
// runs with its metrics listener on, as in production, unless BENCH_METRICS=off.
// Loopback only. Compare ratios, not absolute numbers, on a noisy machine.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApiKey, ROOT, startApi } from '../test/support/processes.js';
import { cpuMs } from './support/proc-cpu.js';
import { createTestStorage } from '../test/support/storage.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

interface Route {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly connections: number;
  readonly status: number;
  readonly goal?: number;
  readonly body?: string;
}

interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** Requests per second and latencies averaged over rounds; errors added up. */
function mean(runs: readonly Run[]): Run {
  const avg = (k: 'rps' | 'p50' | 'p99') => runs.reduce((sum, r) => sum + r[k], 0) / runs.length;
  return { rps: avg('rps'), p50: avg('p50'), p99: avg('p99'), errors: runs.reduce((sum, r) => sum + r.errors, 0) };
}

/** CPU time of every PostgreSQL server process on this machine (0 on embedded storage, which runs in the API). */
async function postgresCpuMs(): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (stat.includes('(postgres)')) total += await cpuMs(Number(entry)).catch(() => 0);
  }
  return total;
}

async function drive(base: string, route: Route, headers: Record<string, string>, seconds: number): Promise<Run> {
  const result = await autocannon({
    url: `${base}${route.path}`,
    method: route.method,
    connections: route.connections,
    duration: seconds,
    headers: route.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(route.body === undefined ? {} : { body: route.body }),
  });
  const wrong =
    result.requests.total - (result.statusCodeStats?.[route.status as unknown as keyof typeof result.statusCodeStats]?.count ?? 0);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + wrong };
}

const LLM = [{ base_url: 'https://127.0.0.1:9/v1', model: 'gpt-4o-mini', api_key: 'sk-bench-0123456789abcdefghij' }];
const AGENT = JSON.stringify({ name: 'bench', instructions: 'You are a helpful voice agent.', llm: LLM });

const storage = await createTestStorage();
const metrics = process.env.BENCH_METRICS !== 'off';
const api = await startApi({
  ...storage.env,
  AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1',
  // Requests are timed only when something can scrape them.
  ...(metrics ? { AGENTPLANE_METRICS_PORT: '0' } : {}),
  ...(process.env.BENCH_CPU_PROF === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` }),
});
const scratch = await mkdtemp(join(tmpdir(), 'agentplane-bench-'));
let bare: ReturnType<typeof spawn> | undefined;
try {
  const { api_key: key } = await createApiKey('bench', storage.env);
  const auth = { authorization: `Bearer ${key}` };
  const call = async (method: string, path: string, body?: string): Promise<object> => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as object;
  };
  let agent: object = {};
  for (let i = 0; i < 20; i++) agent = await call('POST', '/v1/agents', AGENT);
  const id = (agent as { id: string }).id;
  const answers = join(scratch, 'answers.json');
  await writeFile(
    answers,
    JSON.stringify({ agent, list: await call('GET', '/v1/agents?limit=20'), health: await call('GET', '/healthz') }),
  );
  bare = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'support', 'bare-fastify.js'), answers], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(bare.stdout!, 'data')) as [Buffer];
  const bareUrl = `http://127.0.0.1:${/FASTIFY (\d+)/.exec(line.toString())![1]}`;

  const routes: Route[] = [
    { name: 'GET /healthz', method: 'GET', path: '/healthz', connections: 50, status: 200 },
    { name: 'GET /v1/agents/{id}', method: 'GET', path: `/v1/agents/${id}`, connections: 50, status: 200, goal: 0.3 },
    { name: 'GET /v1/agents?limit=20', method: 'GET', path: '/v1/agents?limit=20', connections: 50, status: 200, goal: 0.2 },
    { name: 'POST /v1/agents', method: 'POST', path: '/v1/agents', connections: 20, status: 201, goal: 0.1, body: AGENT },
  ];
  console.log(
    `storage ${storage.kind}; ${ROUNDS} rounds of ${SECONDS} s per route and side, alternated, after 1 s of warm-up; ` +
      `API at LOG_LEVEL=info, metrics ${metrics ? 'on' : 'off'}`,
  );
  console.log(
    '| route | connections | bare Fastify req/s | agentplane req/s | ratio | goal | agentplane p50/p99 ms | API CPU ms/request | PostgreSQL CPU ms/request |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const only = process.env.BENCH_ROUTES?.split(',');
  for (const route of routes.filter((r) => only === undefined || only.some((o) => r.name.includes(o)))) {
    await drive(bareUrl, route, {}, 1);
    await drive(api.url, route, auth, 1);
    // Alternated, so that the machine's slower and faster moments fall on both alike.
    const references: Run[] = [];
    const runs: Run[] = [];
    let cpu = 0;
    let databaseCpu = 0;
    for (let round = 0; round < ROUNDS; round++) {
      references.push(await drive(bareUrl, route, {}, SECONDS));
      const before = await cpuMs(api.process.pid!);
      const databaseBefore = await postgresCpuMs();
      runs.push(await drive(api.url, route, auth, SECONDS));
      cpu += (await cpuMs(api.process.pid!)) - before;
      databaseCpu += (await postgresCpuMs()) - databaseBefore;
    }
    const reference = mean(references);
    const measured = mean(runs);
    if (reference.errors + measured.errors > 0) {
      throw new Error(`${route.name}: ${reference.errors} bare and ${measured.errors} agentplane answers were not ${route.status}`);
    }
    const requests = measured.rps * SECONDS * ROUNDS;
    console.log(
      `| ${route.name} | ${route.connections} | ${Math.round(reference.rps)} | ${Math.round(measured.rps)} | ` +
        `${(measured.rps / reference.rps).toFixed(3)} | ${route.goal?.toFixed(2) ?? '-'} | ${Math.round(measured.p50)}/${Math.round(measured.p99)} | ` +
        `${(cpu / requests).toFixed(2)} | ${(databaseCpu / requests).toFixed(2)} |`,
    );
  }
} finally {
  bare?.kill();
  await api.stop();
  await storage.dispose();
  await rm(scratch, { recursive: true, force: true });
}
