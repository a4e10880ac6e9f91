import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsString, IsUrl, MaxLength, ValidateNested } from 'class-validator';
import { DomainError } from '@agentplane/errors';
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

  it('passes a valid body through as the DTO class', async () => {
    const value = await validate({ name: 'ok', llm: [] });
    expect(value).toBeInstanceOf(BodyDto);
  });
});
