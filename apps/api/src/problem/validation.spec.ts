import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { DomainError } from '#agentplane/errors';
import { createValidationPipe } from './validation.js';

class EntryDto {
  @IsUrl({ protocols: ['https'], require_protocol: true })
  base_url!: string;
}

class BodyDto {
  @IsString()
  @MaxLength(5)
  name!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => EntryDto)
  llm!: EntryDto[];
}

describe('validation pipe', () => {
  const pipe = createValidationPipe();
  const validate = (value: unknown) => pipe.transform(value, { type: 'body', metatype: BodyDto });

  it('reports each invalid field by its path, with a stable code', async () => {
    const error = (await validate({
      name: 'far too long',
      llm: [{ base_url: 'https://ok.example.com' }, { base_url: 'http://plain.example.com' }],
      extra: true,
    }).catch((e: unknown) => e)) as DomainError;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.errors).toEqual(
      expect.arrayContaining([
        { path: 'name', code: 'max_length', message: expect.stringContaining('5') },
        { path: 'llm[1].base_url', code: 'is_url', message: expect.any(String) },
        { path: 'extra', code: 'unknown_property', message: expect.any(String) },
      ]),
    );
    expect(error.errors).toHaveLength(3);
    // The submitted values are not echoed back.
    expect(JSON.stringify(error.errors)).not.toContain('plain.example.com');
  });

  const errorsOf = async (value: unknown) => ((await validate(value).catch((e: unknown) => e)) as DomainError).errors;

  it('names a missing field once, as required, whatever else it would fail', async () => {
    expect(await errorsOf({ llm: [{}] })).toEqual([
      { path: 'name', code: 'required', message: 'is required' },
      { path: 'llm[0].base_url', code: 'required', message: 'is required' },
    ]);
  });

  it('gives one error per field: the type before any length or format', async () => {
    expect(await errorsOf({ name: 42, llm: 'none' })).toEqual([
      { path: 'name', code: 'is_string', message: 'must be a string' },
      { path: 'llm', code: 'is_array', message: 'must be an array' },
    ]);
    expect(await errorsOf({ name: null, llm: [] })).toEqual([{ path: 'name', code: 'is_string', message: 'must be a string' }]);
  });

  it('refuses text PostgreSQL cannot store, once per field, in bodies and path parameters', async () => {
    const errors = await errorsOf({ name: 'toolong\u0000', llm: [{ base_url: 'http://\ud800.example.com' }], extra: { note: '\u0000' } });
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'name', code: 'max_length', message: expect.any(String) },
        { path: 'llm[0].base_url', code: 'is_url', message: expect.any(String) },
        { path: 'extra', code: 'unknown_property', message: expect.any(String) },
        { path: 'extra.note', code: 'nul_character', message: expect.any(String) },
      ]),
    );
    expect(errors).toHaveLength(4);
    expect(await errorsOf({ name: 'a\u0000', llm: [] })).toEqual([{ path: 'name', code: 'nul_character', message: expect.any(String) }]);
    const param = (await pipe
      .transform('agt_\u0000', { type: 'param', data: 'id', metatype: String })
      .catch((e: unknown) => e)) as DomainError;
    expect(param.errors).toEqual([{ path: 'id', code: 'nul_character', message: expect.any(String) }]);
  });

  it('passes a valid body through as the DTO class', async () => {
    const value = await validate({ name: 'ok', llm: [] });
    expect(value).toBeInstanceOf(BodyDto);
  });
});
