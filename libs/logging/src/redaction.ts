/**
 * Field names that may hold a secret, matched in any letter case and with or without `_`/`-`
 * (`api_key`, `apiKey`, `API-KEY` alike). Any property with one of these names is redacted
 * wherever it appears in a log line, so safety does not depend on each call site remembering to
 * leave secrets out.
 */
export const SECRET_FIELD_NAMES = [
  'api_key',
  // A secret header value of an llm entry.
  'secret_value',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'proxy-authorization',
  'password',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'private_key',
  'session_token',
  'master_key',
  'masterKeys',
  'key_material',
  'plaintext',
  'ciphertext',
  'wrapped_key',
  'data_key',
  'connectionString',
  'DATABASE_URL',
  'AGENTPLANE_MASTER_KEYS',
] as const;

export const REDACTED = '[redacted]';

const normalize = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_FIELD_NAMES.map(normalize));
// A JSON key holding a secret-ish word. Most lines hold none, and for those this test is all it
// costs; a line that matches is parsed, and only its exact secret names are redacted.
const SECRET_KEY =
  /"[^"]*(?:key|token|secret|password|authorization|cookie|plaintext|ciphertext|connection[-_]?string|database[-_]?url)[^"]*":/i;

/**
 * Redacts a finished log line (pino's `hooks.streamWrite`, which child loggers inherit): every
 * property whose name is a secret name, at any depth, in arrays too, in bindings, serializer
 * output and nested errors alike, since it runs on what is about to be written.
 *
 * Why not pino's `redact` paths: they name fixed positions, so "this name anywhere" needs a
 * wildcard path per name and depth (156 of them), which cost 80-190 µs per line, more than
 * everything else a request does (bench/log-redaction.ts).
 */
export function redactLine(line: string): string {
  if (!SECRET_KEY.test(line)) return line;
  try {
    return JSON.stringify(redactValue(JSON.parse(line))) + (line.endsWith('\n') ? '\n' : '');
  } catch {
    // Not one JSON object, or too deep to walk: never written unchecked.
    return `{"level":"error","time":"${new Date().toISOString()}","msg":"a log line was withheld: it could not be checked for secrets"}\n`;
  }
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  // No prototype: a "__proto__" key from the line stays a plain property.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, inner] of Object.entries(value)) out[key] = SECRET_NAMES.has(normalize(key)) ? REDACTED : redactValue(inner);
  return out;
}
