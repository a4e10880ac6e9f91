import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import {
  type CredentialRefs,
  CredentialsErrorCode,
  CredentialsService,
  type KeyOwner,
  maskedKeyError,
  maskedKeyField,
} from '#agentplane/credentials';
import type { Transaction } from '#agentplane/db';
import { EgressPolicy } from '#agentplane/egress';
import { DomainError, type FieldError } from '#agentplane/errors';
import { looksMasked, secretHint } from '#agentplane/keys';
import { type Endpoint, type EndpointInput, type LlmHeader, originOf, type StoredEndpoint } from './endpoint.js';
import { resolveBaseUrl } from './endpoint-rules.js';
import { EndpointsError, EndpointsErrorCode } from './endpoints.error.js';

/** Where an endpoint is in the request body, to name its fields: `''` (top level) or `llm[2]`. */
export interface Placed<T> {
  readonly at: string;
  readonly endpoint: T;
}

/** An endpoint whose base_url, resolved, passed the egress policy (DNS included). */
export interface CheckedEndpoint extends EndpointInput {
  readonly baseUrl: string;
  readonly origin: string;
}

/** A field of the endpoint at `at`. */
export function fieldPath(at: string, field: string): string {
  return at === '' ? field : `${at}.${field}`;
}

/**
 * The rules for where an LLM endpoint's requests go and which secrets they carry, for every
 * resource that holds endpoints (agents, providers): the base_url is resolved and checked (DNS
 * included); keys and secret header values are sealed as credentials the resource owns, allowed
 * only for the endpoint's origin; a stored secret is kept only for the same origin at the same
 * position, so it never reaches a host it was not given for.
 */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly egress: EgressPolicy,
  ) {}

  /**
   * The rules that need no stored state: location (DNS included), key sources, and secret values
   * that are masks. Errors are returned, not thrown, so that the caller reports them with its own
   * (see `throwFieldErrors`).
   */
  async check(endpoints: readonly Placed<EndpointInput>[]): Promise<{ checked: Placed<CheckedEndpoint>[]; errors: FieldError[] }> {
    const locations = endpoints.map(({ at, endpoint }) => resolveBaseUrl(endpoint, at));
    const verdicts = await Promise.all(locations.map(async (l) => ('baseUrl' in l ? this.egress.check(l.baseUrl) : undefined)));
    const errors: FieldError[] = [];
    const checked: Placed<CheckedEndpoint>[] = [];
    endpoints.forEach(({ at, endpoint }, i) => {
      const location = locations[i]!;
      const verdict = verdicts[i];
      if ('errors' in location) errors.push(...location.errors);
      else if (!verdict!.ok) errors.push({ path: fieldPath(at, 'base_url'), code: verdict!.code, message: verdict!.message });
      errors.push(...keySourceErrors(at, endpoint));
      if (verdict?.ok === true) {
        checked.push({ at, endpoint: { ...endpoint, baseUrl: verdict.href, origin: originOf(verdict.href) } });
      }
    });
    return { checked, errors };
  }

  /**
   * Stores the keys of the endpoints of `owner`: credential_ids verified under share locks, inline
   * keys and secret header values sealed, the others kept from `previous`, the endpoints that stood
   * at the same positions. Returns the endpoints to store, in order; once the owner's rows point at
   * them, `deleteUnusedKeys` removes the keys that nothing uses any more.
   */
  async store(
    tx: Transaction,
    orgId: OrgId,
    owner: KeyOwner,
    endpoints: readonly Placed<CheckedEndpoint>[],
    previous: readonly (Endpoint | undefined)[],
  ): Promise<StoredEndpoint[]> {
    const missing = endpoints.filter(
      ({ endpoint: e }, i) => needsKeySource(e) && e.apiKey === undefined && e.credentialId === undefined && !canKeepKey(e, previous[i]),
    );
    if (missing.length > 0) throw apiKeyRequired(missing.map((e) => e.at));
    const keptHeaders = keptSecretHeaders(endpoints, previous);
    const previousIds = previous.flatMap((e) => (e?.credentialId == null ? [] : [e.credentialId]));
    const requestedIds = endpoints.flatMap(({ endpoint: e }) => (e.credentialId === undefined ? [] : [e.credentialId]));
    const refs = await this.credentials.referencesFor(tx, orgId, [...previousIds, ...requestedIds]);
    verifyRequested(endpoints, refs);
    verifyKept(endpoints, previous, refs);
    const stored: StoredEndpoint[] = [];
    for (const [i, { at, endpoint }] of endpoints.entries()) {
      const headers: LlmHeader[] = [];
      for (const [h, header] of endpoint.headers.entries()) {
        if ('value' in header) {
          headers.push({ name: header.name, value: header.value });
        } else if ('secretValue' in header) {
          const credentialId = await this.credentials.storeOwnedKey(tx, orgId, owner, {
            apiKey: header.secretValue,
            origin: endpoint.origin,
            name: `${at === '' ? '' : `${at} `}header ${header.name}`,
            field: fieldPath(at, `headers[${h}].secret_value`),
          });
          headers.push({ name: header.name, credentialId, valueHint: secretHint(header.secretValue) });
        } else {
          headers.push(keptHeaders.get(`${i}/${h}`)!);
        }
      }
      let credentialId: string | null = null;
      if (endpoint.apiKey !== undefined) {
        credentialId = await this.credentials.storeOwnedKey(tx, orgId, owner, {
          apiKey: endpoint.apiKey,
          origin: endpoint.origin,
          name: `${at === '' ? '' : `${at} `}key`,
          field: fieldPath(at, 'api_key'),
        });
      } else if (needsKeySource(endpoint)) {
        credentialId = endpoint.credentialId ?? previous[i]!.credentialId;
      }
      stored.push({
        baseUrl: endpoint.baseUrl,
        api: endpoint.api,
        ...(endpoint.azure === undefined ? {} : { azure: endpoint.azure }),
        auth: endpoint.auth,
        credentialId,
        ...(endpoint.extraBody === undefined ? {} : { extraBody: endpoint.extraBody }),
        headers,
      });
    }
    return stored;
  }

  /** Deletes the keys `owner` owns that none of its endpoints, as now stored, uses. */
  deleteUnusedKeys(tx: Transaction, orgId: OrgId, owner: KeyOwner, endpoints: readonly StoredEndpoint[]): Promise<void> {
    return this.credentials.deleteOwnedKeysExcept(tx, orgId, owner, endpoints.flatMap(credentialIdsOf));
  }
}

/**
 * The rules on where an endpoint's key and secret header values come from that need no stored
 * state: one source at most, none with `auth: none`, and never a mask sent back as a secret.
 */
export function keySourceErrors(at: string, endpoint: EndpointInput): FieldError[] {
  const errors: FieldError[] = [];
  if (endpoint.apiKey !== undefined && endpoint.credentialId !== undefined) {
    errors.push({
      path: fieldPath(at, 'credential_id'),
      code: 'conflicts_with_api_key',
      message: 'give either api_key or credential_id, not both',
    });
  }
  if (!needsKeySource(endpoint)) {
    for (const field of ['api_key', 'credential_id'] as const) {
      if ((field === 'api_key' ? endpoint.apiKey : endpoint.credentialId) === undefined) continue;
      errors.push({ path: fieldPath(at, field), code: 'not_allowed_with_auth_none', message: 'must be absent when auth is none' });
    }
  }
  if (endpoint.apiKey !== undefined && looksMasked(endpoint.apiKey)) errors.push(maskedKeyField(fieldPath(at, 'api_key')));
  endpoint.headers.forEach((header, h) => {
    if ('secretValue' in header && looksMasked(header.secretValue)) {
      errors.push(maskedKeyField(fieldPath(at, `headers[${h}].secret_value`)));
    }
  });
  return errors;
}

/**
 * Every field error at once: when all of them are masks sent back as secrets, as the credentials
 * store's own error (which says to leave the field out instead).
 */
export function throwFieldErrors(errors: readonly FieldError[]): void {
  if (errors.length === 0) return;
  const masked: string = CredentialsErrorCode.MaskedValueSubmitted;
  throw errors.every((e) => e.code === masked) ? maskedKeyError([...errors]) : DomainError.validation([...errors]);
}

/** Every endpoint sends a key but one with `auth: none`. */
function needsKeySource(endpoint: EndpointInput): boolean {
  return endpoint.auth !== 'none';
}

/** A stored key is kept for the endpoint at the same position, only for the same origin. */
function canKeepKey(endpoint: CheckedEndpoint, previous: Endpoint | undefined): boolean {
  return previous !== undefined && previous.credentialId !== null && originOf(previous.baseUrl) === endpoint.origin;
}

/** The credentials a stored endpoint uses: its key and its secret header values. */
function credentialIdsOf(endpoint: StoredEndpoint): string[] {
  const headers = endpoint.headers.flatMap((h) => ('credentialId' in h ? [h.credentialId] : []));
  return endpoint.credentialId === null ? headers : [endpoint.credentialId, ...headers];
}

/**
 * The stored secret values that headers sent without one keep, by `endpoint/header` index: the
 * secret header of the same name (case-insensitive) on the endpoint at the same position, only for
 * the same origin, as for keys.
 */
function keptSecretHeaders(
  endpoints: readonly Placed<CheckedEndpoint>[],
  previous: readonly (Endpoint | undefined)[],
): Map<string, LlmHeader> {
  const kept = new Map<string, LlmHeader>();
  const missing: FieldError[] = [];
  endpoints.forEach(({ at, endpoint }, i) => {
    const before = previous[i];
    const sameOrigin = before !== undefined && originOf(before.baseUrl) === endpoint.origin;
    endpoint.headers.forEach((header, h) => {
      if ('value' in header || 'secretValue' in header) return;
      const stored = sameOrigin
        ? before.headers.find((p) => 'credentialId' in p && p.name.toLowerCase() === header.name.toLowerCase())
        : undefined;
      if (stored === undefined || !('credentialId' in stored)) {
        missing.push({
          path: fieldPath(at, `headers[${h}].secret_value`),
          code: 'secret_value_required',
          message: 'is required: give value or secret_value (a stored secret is kept only for the same name, origin and position)',
        });
        return;
      }
      kept.set(`${i}/${h}`, { name: header.name, credentialId: stored.credentialId, valueHint: stored.valueHint });
    });
  });
  if (missing.length > 0) throw DomainError.validation(missing);
  return kept;
}

/** A kept org credential must still allow the endpoint's origin (its owner may have narrowed it). */
function verifyKept(
  endpoints: readonly Placed<CheckedEndpoint>[],
  previous: readonly (Endpoint | undefined)[],
  refs: CredentialRefs,
): void {
  const mismatched: FieldError[] = [];
  endpoints.forEach(({ at, endpoint }, i) => {
    const before = previous[i];
    if (!needsKeySource(endpoint) || endpoint.apiKey !== undefined || endpoint.credentialId !== undefined || before?.ownedKey !== false)
      return;
    const ref = refs.get(before.credentialId!);
    if (ref === undefined || !ref.allowedOrigins.includes(endpoint.origin)) mismatched.push(originMismatch(at));
  });
  if (mismatched.length > 0) throw originMismatchError(mismatched);
}

/** Each credential_id must be an org credential (not a key something owns) allowing the endpoint's origin. */
function verifyRequested(endpoints: readonly Placed<CheckedEndpoint>[], refs: CredentialRefs): void {
  const unknown: FieldError[] = [];
  const mismatched: FieldError[] = [];
  for (const { at, endpoint } of endpoints) {
    if (endpoint.credentialId === undefined) continue;
    const ref = refs.get(endpoint.credentialId);
    if (ref === undefined || ref.owned) {
      unknown.push({ path: fieldPath(at, 'credential_id'), code: 'not_found', message: 'is not a credential of this organization' });
    } else if (!ref.allowedOrigins.includes(endpoint.origin)) {
      mismatched.push(originMismatch(at));
    }
  }
  if (unknown.length > 0) throw DomainError.validation([...unknown, ...mismatched]);
  if (mismatched.length > 0) throw originMismatchError(mismatched);
}

function originMismatch(at: string): FieldError {
  return {
    path: fieldPath(at, 'credential_id'),
    code: EndpointsErrorCode.CredentialOriginMismatch,
    message: "the credential's allowed_origins do not include this endpoint's base_url origin",
  };
}

function originMismatchError(errors: readonly FieldError[]): EndpointsError {
  return new EndpointsError(
    EndpointsErrorCode.CredentialOriginMismatch,
    'A credential may only be used for an origin in its allowed_origins.',
    errors,
  );
}

function apiKeyRequired(places: readonly string[]): EndpointsError {
  return new EndpointsError(
    EndpointsErrorCode.ApiKeyRequired,
    'An endpoint needs a key: a stored key is only kept for the same origin at the same position.',
    places.map((at) => ({
      path: fieldPath(at, 'api_key'),
      code: EndpointsErrorCode.ApiKeyRequired,
      message: 'is required: give api_key or credential_id (a stored key is kept only for the same origin at the same position)',
    })),
  );
}
