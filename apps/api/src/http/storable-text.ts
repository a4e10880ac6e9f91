import type { FieldError } from '#agentplane/errors';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// With the u flag a surrogate pair is one code point, so this matches unpaired halves only.
const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/**
 * Every string in a request, property names included, that PostgreSQL cannot store: one holding
 * NUL (U+0000), which text and jsonb refuse, or an unpaired surrogate, which jsonb refuses and
 * text would store as U+FFFD. Paths read like `llm[0].model` or `metadata["x-team"]`.
 */
export function unstorableText(value: unknown, path = ''): FieldError[] {
  const out: FieldError[] = [];
  walk(value, path, out);
  return out;
}

function walk(value: unknown, path: string, out: FieldError[]): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem !== undefined) out.push({ path, ...problem });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const keyPath = !IDENTIFIER.test(key) ? `${path}[${JSON.stringify(key)}]` : path === '' ? key : `${path}.${key}`;
      const problem = textProblem(key);
      if (problem !== undefined) out.push({ path: keyPath, code: problem.code, message: `has a name that ${problem.message}` });
      else walk((value as Record<string, unknown>)[key], keyPath, out);
    }
  }
}

function textProblem(text: string): Omit<FieldError, 'path'> | undefined {
  if (text.includes('\u0000')) return { code: 'nul_character', message: 'must not contain NUL characters (U+0000)' };
  if (UNPAIRED_SURROGATE.test(text))
    return { code: 'unpaired_surrogate', message: 'must not contain unpaired surrogates (invalid UTF-16)' };
  return undefined;
}
