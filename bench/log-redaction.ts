// What secret redaction costs per log line. The product's logger (createLogger: redactLine on the
// finished line) against pino with no redaction, and against pino's own `redact` option given a
// wildcard path for every secret name at depths 0..5 (what "this name anywhere" takes with paths;
// the product used it until this benchmark). Lines like the ones every request writes, one with a
// serialized error, and one that holds a secret. Writes to a sink that drops everything.
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { createLogger, REDACTED, SECRET_FIELD_NAMES } from '../libs/logging/src/index.js';

const LINES = Number(process.argv[2] ?? 50_000);
const sink = { write: (_line: string) => true };

function wildcardPaths(depth = 5): string[] {
  return SECRET_FIELD_NAMES.flatMap((name) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
    return Array.from({ length: depth + 1 }, (_, d) =>
      d === 0 ? key : `${Array(d).fill('*').join('.')}${key.startsWith('[') ? '' : '.'}${key}`,
    );
  });
}

const loggers: Record<string, Logger> = {
  'no redaction': pino({ level: 'info' }, sink),
  'pino redact, wildcard paths': pino({ level: 'info', redact: { paths: wildcardPaths(), censor: REDACTED } }, sink),
  'agentplane (redactLine)': createLogger({ level: 'info', destination: sink }),
};

const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const shapes: Record<string, object> = {
  'request completed': { res: { statusCode: 200 }, responseTime: 12.34 },
  'incoming request': { req: { method: 'POST', path: '/v1/agents/agt_1/replies', remoteAddress: '127.0.0.1' } },
  'with an error': { err: error, agent_id: 'agt_1', entry_index: 0 },
  'with a secret': { credential: { id: 'cred_1', api_key: 'sk-0123456789abcdefghij' } },
};

console.log(`${LINES} lines of each shape, µs per line (lower is better)`);
console.log(`| line | ${Object.keys(loggers).join(' | ')} | agentplane / wildcard paths |`);
console.log(
  `|---|${Object.keys(loggers)
    .map(() => '---:')
    .join('|')}|---:|`,
);
for (const [shape, object] of Object.entries(shapes)) {
  const perLine: number[] = [];
  for (const logger of Object.values(loggers)) {
    const child = logger.child({ request_id: 'req_0123456789abcdef' });
    for (let i = 0; i < 2_000; i++) child.info(object, shape); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < LINES; i++) child.info(object, shape);
    perLine.push(((performance.now() - t0) * 1000) / LINES);
  }
  const [, paths, ours] = perLine as [number, number, number];
  console.log(`| ${shape} | ${perLine.map((us) => us.toFixed(1)).join(' | ')} | ${(ours / paths).toFixed(3)} |`);
}
