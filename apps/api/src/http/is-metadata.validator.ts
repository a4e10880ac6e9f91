import { ValidateBy } from 'class-validator';

export const METADATA_MAX_PAIRS = 50;
export const METADATA_MAX_KEY = 40;
export const METADATA_MAX_VALUE = 500;

const RECORDS = new WeakMap<object, Set<string | symbol>>();

/**
 * A `metadata` field: at most 50 string pairs, keys 1..40 and values up to 500 characters. The
 * validation pipe gives it the object as sent (recordProperties): class-transformer would drop
 * keys named like Object.prototype members (`constructor`, `toString`), which are data here.
 */
export function IsMetadata(): PropertyDecorator {
  const validate = ValidateBy({
    name: 'metadata',
    validator: {
      validate: (value: unknown) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length <= METADATA_MAX_PAIRS &&
        Object.entries(value).every(
          ([k, v]) =>
            k.length >= 1 && k.length <= METADATA_MAX_KEY && k !== '__proto__' && typeof v === 'string' && v.length <= METADATA_MAX_VALUE,
        ),
      // `__proto__` is refused rather than lost: the stored agent's reads drop it.
      defaultMessage: () =>
        `must be an object of at most ${METADATA_MAX_PAIRS} string values, keys 1..${METADATA_MAX_KEY} (not __proto__) and values up to ${METADATA_MAX_VALUE} characters`,
    },
  });
  return (target, property) => {
    IsRecord()(target, property);
    validate(target, property);
  };
}

/**
 * Marks a property that holds client data as an object (a record, a JSON Schema, an extra body):
 * the validation pipe gives it the object as sent, never checked against the whitelist.
 */
export function IsRecord(): PropertyDecorator {
  return (target, property) => {
    const records = RECORDS.get(target.constructor) ?? new Set();
    RECORDS.set(target.constructor, records.add(property));
  };
}

/** The properties of a DTO class (its own and those it inherits) that hold records of client data (IsMetadata, IsRecord). */
export function recordProperties(dto: object): ReadonlySet<string | symbol> {
  const found = new Set<string | symbol>();
  for (let cls: object | null = dto; cls !== null && cls !== Function.prototype; cls = Object.getPrototypeOf(cls) as object | null) {
    for (const property of RECORDS.get(cls) ?? []) found.add(property);
  }
  return found;
}
