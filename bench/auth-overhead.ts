// What authentication costs per request. Starts the built API (embedded storage, or the
// PostgreSQL in DATABASE_URL), then sends the same bounded number of requests, at the same
// concurrency, to /healthz (one SELECT 1) and to /v1/organization (key hash, indexed key lookup,
// last-used update, organization lookup). Prints throughput and latency of each and their ratio:
// compare the ratio, not absolute numbers, on a noisy machine. Loopback only.
import { performance } from 'node:perf_hooks';
import { createApiKey, startApi } from '../test/support/processes.js';
import { createTestStorage } from '../test/support/storage.js';

const REQUESTS = Number(process.argv[2] ?? 3000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const WARMUP = 300;

interface Result {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

async function measure(name: string, url: string, headers: Record<string, string>, count: number): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, rps: count / elapsed, p50: at(0.5), p99: at(0.99) };
}

const storage = await createTestStorage();
// At the default log level, as in production: request logging is part of the cost.
const api = await startApi(storage.env);
try {
  const { api_key: key } = await createApiKey('bench', storage.env);
  const auth = { authorization: `Bearer ${key}` };
  await measure('warmup', `${api.url}/healthz`, {}, WARMUP);
  await measure('warmup', `${api.url}/v1/organization`, auth, WARMUP);
  const health = await measure('GET /healthz', `${api.url}/healthz`, {}, REQUESTS);
  const org = await measure('GET /v1/organization (authenticated)', `${api.url}/v1/organization`, auth, REQUESTS);
  console.log(`storage: ${storage.kind}, ${REQUESTS} requests per route, concurrency ${CONCURRENCY}`);
  for (const r of [health, org]) {
    console.log(`${r.name.padEnd(40)} ${Math.round(r.rps)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`);
  }
  console.log(`authenticated / health throughput ratio: ${(org.rps / health.rps).toFixed(2)}`);
} finally {
  await api.stop();
  await storage.dispose();
}
