import { type AzureSettings, DEFAULT_AUTH, type EndpointInput, type HeaderInput, type JsonObject } from '#agentplane/endpoints';
import type { AzureSettingsDto, EndpointDto, LlmHeaderDto } from './endpoint-request.dto.js';

/** An endpoint's fields as the domain takes them, the api's defaults filled in (auth). */
export function toEndpointInput(dto: EndpointDto): EndpointInput {
  const api = dto.api ?? 'chat_completions';
  return {
    ...(dto.base_url === undefined ? {} : { baseUrl: dto.base_url }),
    api,
    ...(dto.azure === undefined ? {} : { azure: toAzureSettings(dto.azure) }),
    auth: dto.auth ?? DEFAULT_AUTH[api],
    ...(dto.api_key === undefined ? {} : { apiKey: dto.api_key }),
    ...(dto.credential_id === undefined ? {} : { credentialId: dto.credential_id }),
    ...(dto.extra_body === undefined ? {} : { extraBody: dto.extra_body as JsonObject }),
    headers: (dto.headers ?? []).map(toHeaderInput),
  };
}

function toAzureSettings(azure: AzureSettingsDto): AzureSettings {
  return {
    ...(azure.resource === undefined ? {} : { resource: azure.resource }),
    ...(azure.api_version === undefined ? {} : { apiVersion: azure.api_version }),
    ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }),
  };
}

// `value_hint` (from a read sent back) is ignored: a header without a value keeps its stored secret.
function toHeaderInput(header: LlmHeaderDto): HeaderInput {
  if (header.value !== undefined) return { name: header.name, value: header.value };
  if (header.secret_value !== undefined) return { name: header.name, secretValue: header.secret_value };
  return { name: header.name };
}
