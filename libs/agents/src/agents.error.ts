import { DomainError } from '#agentplane/errors';

export enum AgentsErrorCode {
  /** An llm entry has no key: none given, and none kept (a key is kept only for the same origin at the same index). */
  ApiKeyRequired = 'api_key_required',
  /** An llm entry names a credential whose allowed_origins do not include its base_url's origin. */
  CredentialOriginMismatch = 'credential_origin_mismatch',
}

export class AgentsError extends DomainError<AgentsErrorCode> {}
