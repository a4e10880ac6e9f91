import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout root, found from the sources (Jest) or from dist/ (benchmarks). */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'prisma'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no checkout root above ${start}`);
  }
}
const API_MAIN = join(ROOT, 'dist/apps/api/src/main.js');
const CLI_MAIN = join(ROOT, 'dist/apps/cli/src/main.js');

/** Only what a process needs, so the developer's own environment cannot leak into a test. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...extra };
}

export interface RunningApi {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the process has written so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits. Nest re-raises the signal after a clean shutdown, so expect `SIGTERM`. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built API (`node dist/apps/api/src/main.js`) on a free port and waits until it listens. */
export async function startApi(env: Record<string, string>, timeoutMs = 45_000): Promise<RunningApi> {
  const child = spawn(process.execPath, [API_MAIN], {
    cwd: ROOT,
    env: baseEnv({ PORT: '0', HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    let listening = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      // Only until it listens: searching the whole output on every later chunk would cost the
      // reading process time that grows with everything the API logs.
      if (listening) return;
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"agentplane listening"/.exec(output);
      if (match?.[1] !== undefined) {
        listening = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        return { code: child.exitCode, signal: child.signalCode };
      }
      child.kill('SIGTERM');
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      return { code, signal };
    },
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built admin CLI. */
export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return runProcess(process.execPath, [CLI_MAIN, ...args], env);
}

export function runProcess(command: string, args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function createApiKey(org: string, env: Record<string, string>): Promise<{ org_id: string; api_key: string }> {
  const result = await runCli(['api-keys', 'create', '--org', org, '--json'], env);
  if (result.code !== 0) throw new Error(`api-keys create failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as { org_id: string; api_key: string };
}
