import { applyDecorators, Injectable, Optional } from '@nestjs/common';
import { getFromContainer, ValidateBy, type ValidationArguments } from 'class-validator';
import { BASE_URL_REJECTION_CODES, type BaseUrlVerdict } from './base-url-policy.js';
import { EgressPolicy } from './egress-policy.js';

/**
 * Gives class-validator the process's EgressPolicy (its allowlist). class-validator finds it in
 * the Nest container, which create-app hands over with `useContainer`.
 */
@Injectable()
export class BaseUrlConstraint {
  constructor(@Optional() private readonly policy?: EgressPolicy) {}

  verdict(value: unknown): BaseUrlVerdict {
    if (this.policy === undefined) {
      throw new Error('IsBaseUrl needs EgressModule in the class-validator container (useContainer)');
    }
    return this.policy.parse(value);
  }
}

/**
 * Applies the parse-time base_url policy (DESIGN §4) to a DTO field. One validator per rejection
 * code, named by it, so that problem+json reports `private_host`, `https_required`, … under the
 * field's path. The DNS half runs in the service (EgressPolicy.assertBaseUrl): a validation pipe
 * should not wait on the network.
 */
export function IsBaseUrl(): PropertyDecorator {
  const verdict = (value: unknown) => getFromContainer(BaseUrlConstraint).verdict(value);
  // `unresolvable_host` only comes from DNS.
  const codes = BASE_URL_REJECTION_CODES.filter((code) => code !== 'unresolvable_host');
  return applyDecorators(
    ...codes.map((code) =>
      ValidateBy({
        name: code,
        validator: {
          validate: (value: unknown) => {
            const result = verdict(value);
            return result.ok || result.code !== code;
          },
          defaultMessage: (args?: ValidationArguments) => {
            const result = verdict(args?.value);
            return result.ok ? 'is not an acceptable base_url' : result.message;
          },
        },
      }),
    ),
  );
}
