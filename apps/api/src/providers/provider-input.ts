import { DomainError } from '#agentplane/errors';
import type { Provider, ProviderInput } from '#agentplane/providers';
import { toEndpointInput } from '../endpoints/endpoint-input.js';
import { endpointErrors, protoKeyErrors } from '../endpoints/endpoint-request.rules.js';
import { patchedBody } from '../http/merge-patch.js';
import { ProviderRequestDto } from './provider-request.dto.js';
import { ProviderResponseDto } from './provider-response.dto.js';

/** The body as the service takes it, after the rules the pipe cannot check field by field. */
export function toProviderInput(body: ProviderRequestDto): ProviderInput {
  const errors = [...endpointErrors(body, ''), ...protoKeyErrors(body.model_map ?? {}, 'model_map')];
  if (errors.length > 0) throw DomainError.validation(errors);
  return { ...toEndpointInput(body), name: body.name, modelMap: body.model_map ?? {} };
}

/** A merge patch of the provider as a read shows it, validated as a whole body (see patchedBody). */
export async function patchedProviderInput(current: Provider, patch: unknown): Promise<ProviderInput> {
  return toProviderInput(await patchedBody(ProviderResponseDto.from(current), patch, ProviderRequestDto));
}
