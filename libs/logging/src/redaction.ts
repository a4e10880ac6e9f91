/**
 * Field names that may hold a secret. Any property with one of these names is redacted wherever
 * it appears in a log object (up to `DEPTH` levels deep, arrays included), so safety does not
 * depend on each call site remembering to leave secrets out.
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

const DEPTH = 5;

/** Builds pino `redact.paths` for every secret name at every depth up to `DEPTH`. */
export function redactionPaths(): string[] {
  const paths: string[] = [];
  for (const name of SECRET_FIELD_NAMES) {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
    let prefix = '';
    for (let depth = 0; depth <= DEPTH; depth++) {
      paths.push(prefix === '' ? key : key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
      prefix = prefix === '' ? '*' : `${prefix}.*`;
    }
  }
  return paths;
}

export const REDACTED = '[redacted]';
