// What recording a reply costs the reply, and that a full queue does not make it cost more. Every
// reply ends with one ReplyRecorder.record() call on the request path; it must stay a push onto
// an array whether the database keeps up or not. Three recorders, timed over the same summaries:
// - "observer that ignores": IgnoreReplies.replyEnded, the floor (a call that does nothing);
// - "accepting": a repository that answers at once, the queue never full (each round stays under
//   a batch, and the queue is written between rounds, outside the timing);
// - "full, database stuck": a repository whose insert never answers, so one batch stays in flight,
//   the queue fills to its capacity, and every further summary is dropped and counted.
// Nanoseconds per call: the median round, and the 99th percentile round (a GC pause lands in some).
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { asOrgId } from '../libs/auth/src/index.js';
import type { Logger } from '../libs/logging/src/index.js';
import { ReplyRecorder } from '../libs/records/src/index.js';
import { IgnoreReplies, type ReplySummary, RuntimeErrorCode } from '../libs/runtime/src/index.js';

const ROUNDS = Number(process.argv[2] ?? 2_000);
const PER_ROUND = 400; // under the default batch of 500: an accepting round never starts a write
const logger = pino({ level: 'silent' }) as unknown as Logger;

const summaries: ReplySummary[] = Array.from({ length: PER_ROUND }, (_, n) => ({
  orgId: asOrgId('org_bench'),
  agentId: `agt_${n % 20}`,
  requestId: `req_${n}`,
  stream: true,
  outcome: n % 10 === 0 ? RuntimeErrorCode.Status : 'completed',
  entryIndex: 0,
  api: 'chat_completions',
  model: 'gpt-4o-mini',
  attempts: [{ entryIndex: 0, api: 'chat_completions', model: 'gpt-4o-mini', outcome: 'completed', durationMs: 800 }],
  ttftMs: 120,
  durationMs: 800,
  usage: { input_tokens: 30, output_tokens: 12, total_tokens: 42 },
  startedAt: new Date(),
}));

const recorderWith = (insert: () => Promise<void>) =>
  new ReplyRecorder({ insert } as unknown as ConstructorParameters<typeof ReplyRecorder>[0], logger, {});

interface Side {
  readonly name: string;
  readonly record: (summary: ReplySummary) => unknown;
  /** Runs between rounds, outside the timing. */
  readonly between?: () => Promise<void>;
}

const ignore = new IgnoreReplies();
const accepting = recorderWith(() => Promise.resolve());
const stuck = recorderWith(() => new Promise<void>(() => undefined));
// Fill the stuck recorder: one batch goes to the never-answering insert, the rest waits in the queue.
for (let n = 0; n < 11_000; n++) stuck.record(summaries[n % PER_ROUND]!);
await new Promise((resolve) => setImmediate(resolve));
while (stuck.queued < 10_000) stuck.record(summaries[0]!);

const sides: Side[] = [
  { name: 'observer that ignores', record: (s) => ignore.replyEnded() ?? s },
  { name: 'accepting', record: (s) => accepting.record(s), between: () => accepting.flush() },
  { name: 'full, database stuck', record: (s) => stuck.record(s) },
];

async function measure(side: Side): Promise<{ median: number; p99: number }> {
  const perCall: number[] = [];
  for (let round = 0; round < ROUNDS + 200; round++) {
    const t0 = performance.now();
    for (const summary of summaries) side.record(summary);
    const ns = ((performance.now() - t0) * 1e6) / PER_ROUND;
    if (round >= 200) perCall.push(ns); // the first rounds warm the JIT up
    await side.between?.();
  }
  perCall.sort((x, y) => x - y);
  return { median: perCall[Math.floor(perCall.length / 2)]!, p99: perCall[Math.floor(perCall.length * 0.99)]! };
}

const droppedBefore = stuck.dropped;
const results = new Map<string, { median: number; p99: number }>();
for (const side of sides) results.set(side.name, await measure(side));
const floor = results.get('observer that ignores')!.median;
const acceptingNs = results.get('accepting')!.median;

console.log(`${ROUNDS} rounds of ${PER_ROUND} record() calls; ns per call (lower is better)`);
console.log('| recorder | median ns/call | p99 round ns/call | vs accepting (median) |');
console.log('|---|---:|---:|---:|');
for (const [name, { median, p99 }] of results) {
  console.log(`| ${name} | ${Math.round(median)} | ${Math.round(p99)} | ${(median / acceptingNs).toFixed(2)} |`);
}
console.log(
  `\nfull queue: ${stuck.dropped - droppedBefore} summaries dropped and counted during the timing, ${stuck.queued} queued, ` +
    `${accepting.dropped} dropped by the accepting recorder; the floor is ${Math.round(floor)} ns per call`,
);
