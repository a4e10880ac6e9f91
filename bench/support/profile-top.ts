// The top frames of a V8 CPU profile (`node --cpu-prof`), by self time and by total time:
//   node dist/bench/support/profile-top.js <file.cpuprofile> [count] [skip seconds]
// `skip seconds` leaves out the samples of the profile's first seconds (start-up, module loading).
// Self time says where the CPU was; total time (a frame and what it called) says on whose behalf.
// Frames are grouped by function, file and line; `(idle)` and `(program)` are left out of the
// shares, so they add up to the busy time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds between one sample and the one before it. */
  readonly timeDeltas: readonly number[];
}

const [file, countArg, skipArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const count = Number(countArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const name = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};
const skip = new Set(['(idle)', '(program)', '(garbage collector)']);
const self = new Map<string, number>();
const total = new Map<string, number>();
const skipMicros = Number(skipArg ?? 0) * 1e6;
let busy = 0;
let elapsed = 0;
for (const [index, sample] of profile.samples.entries()) {
  elapsed += profile.timeDeltas[index] ?? 0;
  if (elapsed < skipMicros) continue;
  const leaf = byId.get(sample)!;
  if (skip.has(leaf.callFrame.functionName) && leaf.callFrame.functionName !== '(garbage collector)') continue;
  busy++;
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const key = name(byId.get(id)!);
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + 1);
  }
}
const top = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, v]) => `${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(`busy samples: ${busy}\n\nby self time:\n${top(self)}\n\nby total time:\n${top(total)}`);
