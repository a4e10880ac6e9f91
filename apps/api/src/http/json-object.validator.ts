import { Buffer } from 'node:buffer';
import { ValidateBy, type ValidationOptions } from 'class-validator';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An object of at most `max` bytes as JSON (UTF-8): what is stored and sent upstream with every request. */
export function MaxJsonBytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      validator: {
        validate: (value: unknown) => !isPlainObject(value) || Buffer.byteLength(JSON.stringify(value)) <= max,
        defaultMessage: () => `must be at most ${max} bytes as JSON`,
      },
    },
    { context: { code: 'too_large' }, ...options },
  );
}

/** `{}` and nothing else: a setting that takes no members yet (a member is refused, not ignored). */
export function IsEmptyObject(): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEmptyObject',
      validator: {
        validate: (value: unknown) => isPlainObject(value) && Object.keys(value).length === 0,
        defaultMessage: () => 'must be {}: it takes no members',
      },
    },
    { context: { code: 'unknown_property' } },
  );
}
