import { DomainError } from '#agentplane/errors';
import type { Provider, ProviderInput } from '#agentplane/providers';
import { toEndpointInput } from '../endpoints/endpoint-input.js';
import { endpointErrors, protoKeyErrors } from '../endpoints/endpoint-request.rules.js';
import { applyMergePatch } from '../http/merge-patch.js';
import { createValidationPipe } from '../problem/validation.js';
import { ProviderRequestDto } from './provider-request.dto.js';
import { ProviderResponseDto } from './provider-response.dto.js';

const validation = createValidationPipe();

/** The body as the service takes it, after the rules the pipe cannot check field by field. */
export function toProviderInput(body: ProviderRequestDto): ProviderInput {
  const errors = [...endpointErrors(body, ''), ...protoKeyErrors(body.model_map ?? {}, 'model_map')];
  if (errors.length > 0) throw DomainError.validation(errors);
  return { ...toEndpointInput(body), name: body.name, modelMap: body.model_map ?? {} };
}

/**
 * A merge patch (RFC 7396) applied to the provider as a read shows it, then validated as a whole
 * body. The key and secret header values are not in a read: left as they are, they are kept under
 * the same rule as a PUT (same origin).
 */
export async function patchedProviderInput(current: Provider, patch: unknown): Promise<ProviderInput> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw DomainError.validation([{ path: '', code: 'is_object', message: 'must be a JSON object (a merge patch)' }]);
  }
  const document = applyMergePatch(JSON.parse(JSON.stringify(ProviderResponseDto.from(current))), patch);
  const body = (await validation.transform(document, {
    type: 'body',
    metatype: ProviderRequestDto,
    data: undefined,
  })) as ProviderRequestDto;
  return toProviderInput(body);
}
