import { ValidateBy } from 'class-validator';

export const METADATA_MAX_PAIRS = 50;
export const METADATA_MAX_KEY = 40;
export const METADATA_MAX_VALUE = 500;

/** A `metadata` field: at most 50 string pairs, keys 1..40 and values up to 500 characters. */
export function IsMetadata(): PropertyDecorator {
  return ValidateBy({
    name: 'metadata',
    validator: {
      validate: (value: unknown) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length <= METADATA_MAX_PAIRS &&
        Object.entries(value).every(
          ([k, v]) => k.length >= 1 && k.length <= METADATA_MAX_KEY && typeof v === 'string' && v.length <= METADATA_MAX_VALUE,
        ),
      defaultMessage: () =>
        `must be an object of at most ${METADATA_MAX_PAIRS} string values, keys 1..${METADATA_MAX_KEY} and values up to ${METADATA_MAX_VALUE} characters`,
    },
  });
}
