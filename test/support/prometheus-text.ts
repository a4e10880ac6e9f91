/** One sample of a scrape: a series' name, its labels and its value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly samples: readonly Sample[];
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  /** The samples of `name` whose labels include `labels`. */
  find(name: string, labels?: Readonly<Record<string, string>>): Sample[];
  /** The sum of those samples' values (0 when there are none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/;
const META = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`);
// The series a family of each type writes, besides the family's own name.
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: a line that is not a comment, a
 * HELP or TYPE line or a sample of a declared family throws, so a malformed scrape fails a test.
 */
export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Set<string>();
  for (const [index, line] of text.split('\n').entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1} ${why}: ${line}`);
    };
    if (line === '') continue;
    const meta = META.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      const seen = kind === 'HELP' ? help.has(name) : types.has(name);
      if (seen) fail(`repeats the ${kind} of ${name}`);
      if (kind === 'HELP') help.add(name);
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) types.set(name, rest);
      else fail('names an unknown type');
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line) ?? fail('is not a sample');
    const [, name, rawLabels = '', rawValue] = match as unknown as [string, string, string | undefined, string];
    if (familyOf(name, types) === undefined) fail('belongs to no declared family');
    const value = parseValue(rawValue) ?? fail('has no number');
    samples.push({ name, labels: parseLabels(rawLabels, fail), value });
  }
  const find = (name: string, labels: Readonly<Record<string, string>> = {}): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return { samples, types, find, sum: (name, labels) => find(name, labels).reduce((total, s) => total + s.value, 0) };
}

/** A float as Prometheus reads it (Go's ParseFloat: Inf and NaN in any letter case). */
function parseValue(raw: string): number | undefined {
  if (/^nan$/i.test(raw)) return NaN;
  const infinite = /^([+-]?)inf(inity)?$/i.exec(raw);
  if (infinite !== null) return infinite[1] === '-' ? -Infinity : Infinity;
  const value = Number(raw);
  return Number.isNaN(value) ? undefined : value;
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const [family, type] of types) {
    if ((SUFFIXES[type] ?? []).some((suffix) => name === family + suffix)) return family;
  }
  return undefined;
}

function parseLabels(raw: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = raw;
  while (rest !== '') {
    const match = LABEL.exec(rest) ?? fail('has a malformed label');
    const [whole, name, escaped] = match as unknown as [string, string, string];
    if (name in labels) fail(`repeats the label ${name}`);
    labels[name] = escaped.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  return labels;
}
