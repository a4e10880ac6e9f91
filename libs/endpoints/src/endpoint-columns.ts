import { Prisma } from '#agentplane/db';
import type { AzureSettings, JsonObject, LlmHeader, StoredEndpoint } from './endpoint.js';

/**
 * How an endpoint's structured fields are stored, wherever endpoints are stored (agents' llm
 * entries, providers), so both tables read and write them the same way.
 */
export function endpointColumns(endpoint: StoredEndpoint) {
  return {
    baseUrl: endpoint.baseUrl,
    api: endpoint.api,
    azure: endpoint.azure === undefined ? Prisma.DbNull : azureColumn(endpoint.azure),
    auth: endpoint.auth,
    credentialId: endpoint.credentialId,
    // JSON text: read through a jsonb aggregate (relationJoins), a json column would lose its key order.
    extraBody: endpoint.extraBody === undefined ? null : JSON.stringify(endpoint.extraBody),
    headers: endpoint.headers.map(headerColumn),
  };
}

function azureColumn(azure: AzureSettings): Prisma.InputJsonObject {
  return {
    ...(azure.resource === undefined ? {} : { resource: azure.resource }),
    ...(azure.apiVersion === undefined ? {} : { api_version: azure.apiVersion }),
    ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }),
  };
}

export function azureFromColumn(value: Prisma.JsonValue): { azure?: AzureSettings } {
  if (value === null) return {};
  const column = value as { resource?: string; api_version?: string; deployment?: string };
  return {
    azure: {
      ...(column.resource === undefined ? {} : { resource: column.resource }),
      ...(column.api_version === undefined ? {} : { apiVersion: column.api_version }),
      ...(column.deployment === undefined ? {} : { deployment: column.deployment }),
    },
  };
}

export function extraBodyFromColumn(value: string | null): { extraBody?: JsonObject } {
  return value === null ? {} : { extraBody: JSON.parse(value) as JsonObject };
}

function headerColumn(header: LlmHeader): Prisma.InputJsonObject {
  return 'value' in header
    ? { name: header.name, value: header.value }
    : { name: header.name, credential_id: header.credentialId, value_hint: header.valueHint };
}

export function headersFromColumn(value: Prisma.JsonValue): LlmHeader[] {
  return (value as { name: string; value?: string; credential_id?: string; value_hint?: string }[]).map((h) =>
    h.value !== undefined ? { name: h.name, value: h.value } : { name: h.name, credentialId: h.credential_id!, valueHint: h.value_hint! },
  );
}
