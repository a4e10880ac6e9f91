import { type ArgumentMetadata, type Type, ValidationPipe, type ValidationError } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import type { ValidatorOptions } from 'class-validator';
import { DomainError, type FieldError } from '#agentplane/errors';
import { recordProperties } from '../http/is-metadata.validator.js';
import { unstorableText } from '../http/storable-text.js';

// class-transformer skips these keys, and throws on an untyped object that has `constructor`.
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Properties of the input that the DTO instance lost, by the instance they were refused for. */
const droppedBy = new WeakMap<object, ValidationError[]>();

/**
 * The global pipe: DTOs are whitelisted (unknown properties are errors, not silently dropped)
 * and every failure becomes one 422 listing each field once by its path, like `llm[1].base_url`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // The value tells a missing field from a wrong one; it is never put in a response.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => DomainError.validation(flattenValidationErrors(errors)),
    transformerPackage: { plainToInstance, classToPlain: classTransformer.classToPlain },
  });
}

/**
 * class-transformer, minus what it silently drops: a key named like an Object.prototype member
 * (`toString`, `constructor`, `__proto__`) never reaches the instance, so the whitelist never saw
 * it. Such a key is refused as unknown (see validate below), except in a record (IsMetadata),
 * which gets the object as sent.
 */
function plainToInstance<T>(dto: Type<T>, plain: unknown, options?: classTransformer.ClassTransformOptions): T | T[] {
  const instance = classTransformer.plainToInstance(dto, withoutUnsafeKeys(plain), options);
  if (isDtoInstance(instance)) {
    const dropped: ValidationError[] = [];
    restore(instance, plain, '', dropped);
    if (dropped.length > 0) droppedBy.set(instance, dropped);
  }
  return instance;
}

function withoutUnsafeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUnsafeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !UNSAFE_KEYS.has(key))
      .map(([key, v]) => [key, withoutUnsafeKeys(v)]),
  );
}

/** Walks a DTO instance beside the input it came from. */
function restore(instance: object, plain: unknown, path: string, dropped: ValidationError[]): void {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return;
  const records = recordProperties(instance.constructor);
  const target = instance as Record<string, unknown>;
  for (const [key, value] of Object.entries(plain as Record<string, unknown>)) {
    const keyPath = path === '' ? key : `${path}.${key}`;
    if (records.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // Own data properties only (fromEntries defines, never assigns): `__proto__` stays a key.
      target[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>));
    } else if (!Object.hasOwn(target, key)) {
      dropped.push({ property: keyPath, value, constraints: { whitelistValidation: `property ${key} should not exist` }, children: [] });
    } else if (Array.isArray(value) && Array.isArray(target[key])) {
      const items = target[key] as unknown[];
      value.forEach((item, i) => {
        if (isDtoInstance(items[i])) restore(items[i], item, `${keyPath}[${i}]`, dropped);
      });
    } else if (isDtoInstance(target[key])) {
      restore(target[key], value, keyPath, dropped);
    }
  }
}

function isDtoInstance(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype !== null && prototype !== Object.prototype;
}

/** Also refuses text PostgreSQL cannot store, anywhere in a body, query or path parameter. */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameters (the caller's auth context) are not client input.
    const unstorable = metadata.type === 'custom' ? [] : unstorableText(value, metadata.data ?? '');
    let result: unknown;
    try {
      result = await super.transform(value, metadata);
    } catch (error) {
      if (unstorable.length === 0 || !(error instanceof DomainError) || error.errors === undefined) throw error;
      // Still one error per field: what the DTO found first, then the text nothing else flagged.
      const reported = new Set(error.errors.map((e) => e.path));
      throw DomainError.validation([...error.errors, ...unstorable.filter((e) => !reported.has(e.path))]);
    }
    if (unstorable.length > 0) throw DomainError.validation(unstorable);
    return result;
  }

  // Nest deletes `__proto__`, `constructor` and `prototype` keys from the input, in place and
  // silently, metadata keys included; plainToInstance above refuses them instead, or keeps them
  // as record data.
  protected override stripProtoKeys(): void {}

  protected override async validate(object: object, options?: ValidatorOptions): Promise<ValidationError[]> {
    return [...(droppedBy.get(object) ?? []), ...(await super.validate(object, options))];
  }
}

export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent === ''
        ? error.property
        : `${parent}.${error.property}`;
    const constraint = firstThatMatters(Object.keys(error.constraints ?? {}));
    if (constraint === undefined) {
      // Only a container of invalid fields, like `llm` holding `llm[1]`.
    } else if (error.value === undefined && constraint !== 'whitelistValidation') {
      out.push({ path, code: 'required', message: 'is required' });
    } else {
      // A DTO can name a stable code for a constraint: `{ context: { code: 'invalid_api_key' } }`.
      const declared = (error.contexts?.[constraint] as { code?: unknown } | undefined)?.code;
      const code = typeof declared === 'string' ? declared : constraintCode(constraint);
      out.push({ path, code, message: withoutPropertyName(error.constraints![constraint]!, error.property) });
    }
    out.push(...flattenValidationErrors(error.children ?? [], path));
  }
  return out;
}

// What a field is decides whether its length or format means anything: those come first.
const TYPE_CONSTRAINTS = ['whitelistValidation', 'isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isIn'];

/**
 * One failure per field: its type check, else the first declared of the others. class-validator
 * reports a property's failures in the reverse of their declaration order (decorators apply
 * bottom-up), and DTOs declare the type first, then lengths, then formats.
 */
function firstThatMatters(failed: readonly string[]): string | undefined {
  return TYPE_CONSTRAINTS.find((type) => failed.includes(type)) ?? failed.at(-1);
}

function constraintCode(constraint: string): string {
  if (constraint === 'whitelistValidation') return 'unknown_property';
  return constraint.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

// class-validator starts messages with the property name; the path already says it.
function withoutPropertyName(message: string, property: string): string {
  return message.startsWith(property + ' ') ? message.slice(property.length + 1) : message;
}
