// What the relay adds. A fake OpenAI-compatible upstream on loopback TLS (the test CA) streams a
// reply: THINK_MS before the first token (BENCH_THINK_MS overrides it), then TOKENS tokens
// TOKEN_GAP_MS apart. The same request is made directly to it, through a bare pipe relay (its own
// process: bench/support/pipe-relay.ts, what any relay costs at the least) and through agentplane
// (the built API, on PostgreSQL with DATABASE_URL, else embedded), at 1, 50 and 200 concurrent
// streams; time to first token and total time are measured by the client, p50/p99 of each, the
// ratios through/direct and through/pipe and agentplane's TTFT p50 minus the pipe's, with the CPU
// time the API and the pipe spent per relayed reply (from /proc) beside what this process (client
// and fake upstream) spent per direct stream. Then memory per open stream: the API's
// resident set and V8 heap with 200 streams held open against a stalled upstream, minus idle,
// over 200, each read right after a full garbage collection (bench/support/memory-probe.ts).
// The API logs at its default level (info), as in production. Loopback only. Compare ratios, not
// absolute numbers, on a noisy machine.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createApiKey, ROOT, startApi } from '../test/support/processes.js';
import { cpuMs } from './support/proc-cpu.js';
import { createTestStorage } from '../test/support/storage.js';

const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 50);
const TOKENS = 20;
const TOKEN_GAP_MS = 5;
const LEVELS = [1, 50, 200];
const ROUNDS = Number(process.argv[2] ?? 3);
// One stream gives one sample a round: it gets more rounds, so its p50 and its CPU per reply (10 ms
// ticks) mean something.
const roundsAt = (level: number): number => (level === 1 ? ROUNDS * 20 : ROUNDS);
const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');

const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const END = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

const upstream = createServer(
  { key: await readFile(join(TLS_DIR, 'server.key')), cert: await readFile(join(TLS_DIR, 'server.crt')) },
  (req, res) => {
    req.resume();
    req.on('end', () => {
      void (async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (req.url?.startsWith('/stall/')) return; // held open, for the memory measurement
        await sleep(THINK_MS);
        for (let i = 0; i < TOKENS; i++) {
          res.write(chunk(`t${i} `));
          await sleep(TOKEN_GAP_MS);
        }
        res.end(END);
      })();
    });
  },
);
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const upstreamPort = (upstream.address() as { port: number }).port;
upstream.keepAliveTimeout = 60_000;

interface Sample {
  readonly ttft: number;
  readonly total: number;
}

/** One streamed request; the first token is the first body chunk holding a text delta. */
async function timed(send: () => Promise<{ body: AsyncIterable<Uint8Array> }>, marker: string): Promise<Sample> {
  const t0 = performance.now();
  const { body } = await send();
  let ttft = -1;
  for await (const piece of body) {
    if (ttft < 0 && Buffer.from(piece).toString('utf8').includes(marker)) ttft = performance.now() - t0;
  }
  return { ttft, total: performance.now() - t0 };
}

const at = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

const storage = await createTestStorage();
const api = await startApi({
  ...storage.env,
  AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1',
  NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.crt'),
  // BENCH_CPU_PROF=<dir>: the API writes a V8 CPU profile there when it stops (read it with
  // bench/support/profile-top.ts).
  NODE_OPTIONS:
    `--expose-gc --import ${join(ROOT, 'dist', 'bench', 'support', 'memory-probe.js')}` +
    (process.env.BENCH_CPU_PROF === undefined ? '' : ` --cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}`),
});
const pipeProcess = spawn(
  process.execPath,
  [join(ROOT, 'dist', 'bench', 'support', 'pipe-relay.js'), String(upstreamPort), join(TLS_DIR, 'ca.crt')],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const [pipeLine] = (await once(pipeProcess.stdout, 'data')) as [Buffer];
const pipeUrl = `http://127.0.0.1:${/PIPE (\d+)/.exec(pipeLine.toString())![1]}`;
const direct = new Agent({ connect: { ca: await readFile(join(TLS_DIR, 'ca.crt')) }, connections: 256 });
const local = new Agent({ connections: 256 });
try {
  const { api_key: key } = await createApiKey('bench', storage.env);
  const createAgent = async (path: string): Promise<string> => {
    const res = await request(`${api.url}/v1/agents`, {
      dispatcher: local,
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bench',
        llm: [{ base_url: `https://127.0.0.1:${upstreamPort}/${path}`, model: 'm', api_key: 'sk-bench-0123456789abcdefghij' }],
      }),
    });
    if (res.statusCode !== 201) throw new Error(`create agent: ${res.statusCode} ${await res.body.text()}`);
    return ((await res.body.json()) as { id: string }).id;
  };
  const agentId = await createAgent('v1');
  const stalledId = await createAgent('stall/v1');
  const messages = [{ role: 'user', content: 'Hi' }];
  const viaDirect = () =>
    request(`https://127.0.0.1:${upstreamPort}/v1/chat/completions`, {
      dispatcher: direct,
      method: 'POST',
      headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
  const viaPipe = () =>
    request(`${pipeUrl}/v1/chat/completions`, {
      dispatcher: local,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
  const viaRelay = (id = agentId, signal?: AbortSignal) =>
    request(`${api.url}/v1/agents/${id}/replies`, {
      dispatcher: local,
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
      ...(signal === undefined ? {} : { signal }),
    });

  // Warm both paths (TLS sessions, JIT, the API's first queries).
  for (let i = 0; i < 20; i++) {
    await Promise.all([timed(viaDirect, '"content"'), timed(viaPipe, '"content"'), timed(() => viaRelay(), 'reply.delta')]);
  }

  // Memory first, while the heap is still small: 200 streams held open against the stalled upstream.
  const memory = async (): Promise<{ rss: number; heapUsed: number; external: number }> => {
    const seen = api.output().length;
    api.process.kill('SIGWINCH');
    for (let i = 0; i < 100; i++) {
      const line = /MEMORY (\{.*\})/.exec(api.output().slice(seen))?.[1];
      if (line !== undefined) return JSON.parse(line) as { rss: number; heapUsed: number; external: number };
      await sleep(20);
    }
    throw new Error('the API did not report its memory');
  };
  const OPEN = 200;
  const idle = await memory();
  const controller = new AbortController();
  const open = await Promise.all(Array.from({ length: OPEN }, () => viaRelay(stalledId, controller.signal)));
  await sleep(500);
  const busy = await memory();
  controller.abort();
  await Promise.allSettled(open.map((res) => res.body.text()));
  const perStream = (k: 'rss' | 'heapUsed' | 'external') => Math.round((busy[k] - idle[k]) / OPEN / 1024);
  const memoryLine =
    `Memory per open stream (${OPEN} held open, after a full GC): RSS ${perStream('rss')} KiB, V8 heap ${perStream('heapUsed')} KiB, ` +
    `external ${perStream('external')} KiB (RSS idle ${Math.round(idle.rss / 2 ** 20)} MiB, open ${Math.round(busy.rss / 2 ** 20)} MiB)`;

  console.log(
    `upstream: first token after ${THINK_MS} ms, ${TOKENS} tokens ${TOKEN_GAP_MS} ms apart; ${ROUNDS} rounds per level (${roundsAt(1)} at 1 stream); storage ${storage.kind}`,
  );
  console.log(
    '| streams | direct TTFT p50/p99 ms | pipe TTFT p50/p99 ms | agentplane TTFT p50/p99 ms | vs direct p50 | vs pipe p50 | minus pipe p50 ms | direct total p50/p99 ms | agentplane total p50/p99 ms | total ratio p50 | API CPU ms/reply | pipe CPU ms/reply | client+upstream CPU ms/stream (direct) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const level of LEVELS) {
    const d: Sample[] = [];
    const p: Sample[] = [];
    const r: Sample[] = [];
    let apiCpuMs = 0;
    let pipeCpuMs = 0;
    let clientCpuMs = 0;
    for (let round = 0; round < roundsAt(level); round++) {
      // Interleaved so that machine noise hits both alike.
      const directCpu = process.cpuUsage();
      d.push(...(await Promise.all(Array.from({ length: level }, () => timed(viaDirect, '"content"')))));
      const direct = process.cpuUsage(directCpu);
      clientCpuMs += (direct.user + direct.system) / 1000;
      const pipeBefore = await cpuMs(pipeProcess.pid!);
      p.push(...(await Promise.all(Array.from({ length: level }, () => timed(viaPipe, '"content"')))));
      pipeCpuMs += (await cpuMs(pipeProcess.pid!)) - pipeBefore;
      const before = await cpuMs(api.process.pid!);
      r.push(...(await Promise.all(Array.from({ length: level }, () => timed(() => viaRelay(), 'reply.delta')))));
      apiCpuMs += (await cpuMs(api.process.pid!)) - before;
    }
    const p50 = (s: Sample[], k: keyof Sample) =>
      at(
        s.map((x) => x[k]),
        0.5,
      );
    const f = (s: Sample[], k: keyof Sample) =>
      `${Math.round(p50(s, k))}/${Math.round(
        at(
          s.map((x) => x[k]),
          0.99,
        ),
      )}`;
    const ratio = (over: Sample[], k: keyof Sample) => (p50(r, k) / p50(over, k)).toFixed(2);
    const perReply = (ms: number) => (ms / (level * roundsAt(level))).toFixed(1);
    console.log(
      `| ${level} | ${f(d, 'ttft')} | ${f(p, 'ttft')} | ${f(r, 'ttft')} | ${ratio(d, 'ttft')} | ${ratio(p, 'ttft')} | ` +
        `${(p50(r, 'ttft') - p50(p, 'ttft')).toFixed(1)} | ${f(d, 'total')} | ${f(r, 'total')} | ${ratio(d, 'total')} | ` +
        `${perReply(apiCpuMs)} | ${perReply(pipeCpuMs)} | ${perReply(clientCpuMs)} |`,
    );
  }
  console.log(memoryLine);
} finally {
  await direct.close();
  await local.close();
  await api.stop();
  pipeProcess.kill();
  upstream.closeAllConnections();
  upstream.close();
  await storage.dispose();
}
