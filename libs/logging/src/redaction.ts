/**
 * Field names that may hold a secret (matched in any letter case). Any property with one of these
 * names is redacted wherever it appears in a log line, so safety does not depend on each call
 * site remembering to leave secrets out.
 */
export const SECRET_FIELD_NAMES = [
  'api_key',
  'apiKey',
  'authorization',
  'Authorization',
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
  'master_key',
  'masterKeys',
  'key_material',
  'plaintext',
  'ciphertext',
  'wrapped_key',
  'wrappedKey',
  'data_key',
  'dataKey',
  'connectionString',
  'DATABASE_URL',
  'AGENTPLANE_MASTER_KEYS',
] as const;

export const REDACTED = '[redacted]';

const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_FIELD_NAMES.map((name) => name.toLowerCase()));
// Any of the names as a JSON key. Most lines hold none, and for those this test is all it costs.
const SECRET_KEY = new RegExp(`"(?:${[...SECRET_NAMES].map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|')})":`, 'i');
const WITHHELD = `{"level":"error","msg":"a log line was withheld: it could not be checked for secrets"}\n`;

/**
 * Redacts a finished log line (pino's `hooks.streamWrite`): every property whose name is a secret
 * name, in any letter case, at any depth, in arrays too, in bindings, serializer output and
 * nested errors alike, since it runs on what is about to be written.
 *
 * Why not pino's `redact` paths: they name fixed positions, so "this name anywhere" needs a
 * wildcard path per name and depth (156 of them), which cost about 90 µs per line, more than
 * everything else a request does (bench/log-redaction.ts).
 */
export function redactLine(line: string): string {
  if (!SECRET_KEY.test(line)) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return WITHHELD;
  }
  return JSON.stringify(redactValue(parsed)) + (line.endsWith('\n') ? '\n' : '');
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  // No prototype: a "__proto__" key from the line stays a plain property.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, inner] of Object.entries(value)) out[key] = SECRET_NAMES.has(key.toLowerCase()) ? REDACTED : redactValue(inner);
  return out;
}
