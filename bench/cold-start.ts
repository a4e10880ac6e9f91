// Cold start: seconds from `npm start` (this checkout, installed and built) to the first 200 from
// /healthz, on a new data folder and then on the same folder again (warm), RUNS times each, with
// embedded storage. `npm start` is what an operator runs, so its own start-up (npm, the build
// check) is included. Run from the repository root: node dist/bench/cold-start.js [runs]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../test/support/processes.js';

const RUNS = Number(process.argv[2] ?? 3);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Seconds until /healthz answers 200, then stops the server (and waits for it to exit). */
async function startOnce(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      AGENTPLANE_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > 120_000) throw new Error('the server did not answer /healthz within 120 s');
      await sleep(25);
    }
  } finally {
    // npm and the server it started are one process group.
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const rows: string[] = [];
for (let run = 1; run <= RUNS; run++) {
  const dataDir = await mkdtemp(join(tmpdir(), 'agentplane-cold-'));
  try {
    const fresh = await startOnce(dataDir);
    const warm = await startOnce(dataDir);
    rows.push(`| ${run} | ${fresh.toFixed(1)} | ${warm.toFixed(1)} |`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
console.log('| run | new data folder s | warm data folder s |\n|---:|---:|---:|');
console.log(rows.join('\n'));
