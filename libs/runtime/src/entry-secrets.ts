import type { RunnableLlmEntry } from '#agentplane/agents';
import type { OrgId } from '#agentplane/auth';
import type { CredentialsService, LoadedCredential } from '#agentplane/credentials';
import type { AuthScheme } from '#agentplane/endpoints';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';

/** A secret given with the request that tests an unsaved entry: used for that call, never stored. */
export class InlineSecret {
  constructor(readonly value: string) {}
}

/** Where a secret an upstream call sends comes from: a stored credential (loaded, or by id), or inline. */
export type SecretSource = LoadedCredential | string | InlineSecret;

/** The key and headers of one upstream call, their secrets still closed. */
export interface CallSecrets {
  readonly auth: AuthScheme;
  /** Null only for `auth: none`. */
  readonly key: SecretSource | null;
  readonly headers: readonly (
    { readonly name: string; readonly value: string } | { readonly name: string; readonly secret: SecretSource }
  )[];
}

/**
 * The secrets of an entry's attempt. Those read with the agent are as current as the reply. A
 * fallback starts later, when one may have been deleted or narrowed: it is read again (by id, in
 * the agent's org), so the org and origin checks see it as it is now. The first attempt costs no
 * extra round trip.
 */
export function callSecretsOf(entry: RunnableLlmEntry, index: number): CallSecrets {
  return {
    auth: entry.auth,
    key: entry.auth === 'none' ? null : index === 0 ? entry.credential : entry.credentialId,
    headers: entry.headers.map((h) =>
      'credentialId' in h ? { name: h.name, secret: index === 0 ? h.credential : h.credentialId } : { name: h.name, value: h.value },
    ),
  };
}

/**
 * Runs `send` with the call's headers: the wire format's own (such as `anthropic-version`) unless
 * the entry sets one of the same name, the key and the entry's headers. Stored secrets are opened
 * only while `send` hands the request over, and only for `target`'s origin (the credentials service
 * refuses any other).
 */
export function withCallHeaders<T>(
  credentials: CredentialsService,
  orgId: OrgId,
  call: CallSecrets,
  target: string,
  protocol: Readonly<Record<string, string>>,
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  // A key scheme without its credential is an entry the store could not complete.
  if (call.auth !== 'none' && call.key === null) {
    throw new RuntimeError(RuntimeErrorCode.CredentialUnavailable, 'The credential for this llm entry could not be opened.');
  }
  const sources = [...(call.key === null ? [] : [call.key]), ...call.headers.flatMap((h) => ('secret' in h ? [h.secret] : []))];
  const stored = sources.filter((s): s is LoadedCredential | string => !(s instanceof InlineSecret));
  const build = (opened: readonly string[]): Promise<T> => {
    let next = 0;
    const take = (source: SecretSource): string => (source instanceof InlineSecret ? source.value : opened[next++]!);
    const own = new Set(call.headers.map((h) => h.name.toLowerCase()));
    const headers: Record<string, string> = Object.fromEntries(Object.entries(protocol).filter(([name]) => !own.has(name)));
    const key = call.key === null ? undefined : take(call.key);
    switch (call.auth) {
      case 'bearer':
        headers.authorization = `Bearer ${key}`;
        break;
      case 'api_key_header':
        headers['api-key'] = key!;
        break;
      case 'x_api_key':
        headers['x-api-key'] = key!;
        break;
      case 'x_goog_api_key':
        headers['x-goog-api-key'] = key!;
        break;
      case 'none':
        break;
      default:
        throw new RuntimeError(RuntimeErrorCode.CredentialUnavailable, `Unknown auth scheme ${String(call.auth satisfies never)}.`);
    }
    for (const header of call.headers) headers[header.name] = 'secret' in header ? take(header.secret) : header.value;
    if (next !== opened.length) throw new Error('opened secrets and headers out of step');
    return send(headers);
  };
  return stored.length === 0 ? build([]) : credentials.withSecrets(orgId, stored, target, build);
}
