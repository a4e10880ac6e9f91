import type { OrgId } from '#agentplane/auth';
import { strongEtag } from '#agentplane/db';
import type { Endpoint, EndpointInput, LlmHeader } from '#agentplane/endpoints';

/** At most this many pairs in a provider's model map. */
export const MODEL_MAP_MAX_PAIRS = 200;

/**
 * A named LLM endpoint of an organization, which agents' llm entries use by id: its settings,
 * key and secret headers are the provider's, and `modelMap` turns the model an entry names into
 * the one the endpoint expects (`model_map[model] ?? model`).
 */
export interface Provider extends Endpoint {
  readonly id: string;
  readonly orgId: OrgId;
  readonly name: string;
  readonly modelMap: Readonly<Record<string, string>>;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface ProviderInput extends EndpointInput {
  readonly name: string;
  readonly modelMap: Readonly<Record<string, string>>;
}

/** The model to send for an entry that names `model`. */
export function mappedModel(modelMap: Readonly<Record<string, string>>, model: string): string {
  return Object.hasOwn(modelMap, model) ? modelMap[model]! : model;
}

/** A strong ETag over everything a read shows (hints, never secrets) and the version. */
export function providerEtag(provider: Provider): string {
  return strongEtag([
    provider.id,
    provider.version,
    provider.name,
    provider.api,
    provider.baseUrl,
    provider.azure ?? null,
    provider.auth,
    provider.credentialId,
    provider.apiKeyHint,
    provider.ownedKey,
    provider.extraBody ?? null,
    provider.headers satisfies readonly LlmHeader[],
    Object.entries(provider.modelMap),
    provider.updatedAt.toISOString(),
  ]);
}
