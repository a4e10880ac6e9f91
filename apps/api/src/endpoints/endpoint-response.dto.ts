import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { AuthScheme, AzureSettings, Endpoint, LlmApi, LlmHeader } from '#agentplane/endpoints';
import type { AzureSettingsDto } from './endpoint-request.dto.js';

@ApiSchema({ name: 'LlmHeader', description: 'An extra header: its value, or for a secret one only a hint' })
export class LlmHeaderResponseDto {
  @ApiProperty({ example: 'OpenAI-Project' })
  name!: string;
  @ApiPropertyOptional({ example: 'proj_support', description: 'Present for a plain header' })
  value?: string;
  @ApiPropertyOptional({
    readOnly: true,
    example: '****x7Qa',
    description: 'Present instead of value for a secret header: "****", plus the last 4 characters when it has at least 20',
  })
  value_hint?: string;

  static from(header: LlmHeader): LlmHeaderResponseDto {
    return 'value' in header ? { name: header.name, value: header.value } : { name: header.name, value_hint: header.valueHint };
  }
}

/** An endpoint's fields as reads show them: keys only as hints, an org credential by its id. */
export interface EndpointResponse {
  base_url: string;
  api: LlmApi;
  azure?: AzureSettingsDto;
  auth: AuthScheme;
  api_key_hint?: string;
  credential_id?: string;
  extra_body?: Record<string, unknown>;
  headers: LlmHeaderResponseDto[];
}

export function endpointResponse(endpoint: Endpoint): EndpointResponse {
  return {
    base_url: endpoint.baseUrl,
    api: endpoint.api,
    ...(endpoint.azure === undefined ? {} : { azure: azureResponse(endpoint.azure) }),
    auth: endpoint.auth,
    ...(endpoint.apiKeyHint === null ? {} : { api_key_hint: endpoint.apiKeyHint }),
    ...(endpoint.ownedKey || endpoint.credentialId === null ? {} : { credential_id: endpoint.credentialId }),
    ...(endpoint.extraBody === undefined ? {} : { extra_body: endpoint.extraBody }),
    headers: endpoint.headers.map((h) => LlmHeaderResponseDto.from(h)),
  };
}

function azureResponse(azure: AzureSettings): AzureSettingsDto {
  return {
    ...(azure.resource === undefined ? {} : { resource: azure.resource }),
    ...(azure.apiVersion === undefined ? {} : { api_version: azure.apiVersion }),
    ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }),
  };
}
