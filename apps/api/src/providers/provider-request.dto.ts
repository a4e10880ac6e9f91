import { ApiHideProperty, ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Allow, IsObject, IsString, Length, Matches, ValidateBy } from 'class-validator';
import { MODEL_MAP_MAX_PAIRS } from '#agentplane/providers';
import { EndpointDto, NOT_BLANK, present } from '../endpoints/endpoint-request.dto.js';
import { IsRecord } from '../http/is-metadata.validator.js';

/** A model name on either side of a model map: what an llm entry's `model` may be. */
const MODEL_NAME_MAX = 200;

function isModelMap(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const pairs = Object.entries(value);
  return (
    pairs.length <= MODEL_MAP_MAX_PAIRS &&
    pairs.every(
      ([from, to]) =>
        from.length <= MODEL_NAME_MAX &&
        NOT_BLANK.test(from) &&
        typeof to === 'string' &&
        to.length >= 1 &&
        to.length <= MODEL_NAME_MAX &&
        NOT_BLANK.test(to),
    )
  );
}

@ApiSchema({
  name: 'ProviderRequest',
  description:
    'A named LLM endpoint that agents use by id (`{"provider_id", "model"}` in their llm entries): the same endpoint fields ' +
    'as an inline llm entry, a name, and a model map.',
})
export class ProviderRequestDto extends EndpointDto {
  /** Read-only members of a read: accepted and ignored, so that a read can be edited and sent back as it is. */
  @ApiHideProperty()
  @Allow()
  id?: unknown;

  @ApiHideProperty()
  @Allow()
  object?: unknown;

  @ApiHideProperty()
  @Allow()
  created_at?: unknown;

  @ApiHideProperty()
  @Allow()
  updated_at?: unknown;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Claude via Acme gateway' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  name!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', minLength: 1, maxLength: MODEL_NAME_MAX },
    maxProperties: MODEL_MAP_MAX_PAIRS,
    default: {},
    example: { 'claude-sonnet-4-6': 'claude-v2' },
    description:
      `The model an agent's entry names -> the model this endpoint expects (at most ${MODEL_MAP_MAX_PAIRS} pairs, names of ` +
      `1 to ${MODEL_NAME_MAX} characters). A model not in the map is sent as named.`,
  })
  @present('model_map')
  @IsObject()
  @IsRecord()
  @ValidateBy(
    {
      name: 'isModelMap',
      validator: {
        validate: isModelMap,
        defaultMessage: () =>
          `must map at most ${MODEL_MAP_MAX_PAIRS} model names to model names (each 1 to ${MODEL_NAME_MAX} characters, not blank)`,
      },
    },
    { context: { code: 'invalid_model_map' } },
  )
  model_map?: Record<string, string>;
}
