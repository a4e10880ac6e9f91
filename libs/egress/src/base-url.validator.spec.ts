import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, useContainer, validate, ValidateNested } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import { type AppConfig, ConfigModule } from '@agentplane/config';
import { type Logger, LoggingModule } from '@agentplane/logging';
import { IsBaseUrl } from './base-url.validator.js';
import { EgressModule } from './egress.module.js';

class LlmEntry {
  @IsBaseUrl()
  base_url!: string;
}

class AgentBody {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LlmEntry)
  llm!: LlmEntry[];
}

const logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => logger };

async function contextWith(allowlist: AppConfig['egressAllowlist']): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ConfigModule.forRoot({ egressAllowlist: allowlist } as unknown as AppConfig),
      LoggingModule.forRoot(logger as unknown as Logger),
      EgressModule,
    ],
  })
  class TestModule {}
  const ctx = await NestFactory.createApplicationContext(TestModule, { logger: false });
  useContainer(ctx.select(EgressModule), { fallbackOnErrors: true });
  return ctx;
}

/** `[index, constraint names]` for every failing entry. */
async function failures(urls: unknown[]): Promise<[string, string[]][]> {
  const errors = await validate(plainToInstance(AgentBody, { llm: urls.map((base_url) => ({ base_url })) }));
  return (errors[0]?.children ?? []).map((entry) => [entry.property, entry.children!.flatMap((c) => Object.keys(c.constraints ?? {}))]);
}

describe('@IsBaseUrl', () => {
  let ctx: INestApplicationContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('reports exactly one constraint per bad entry, named by the rejection code, at its index', async () => {
    ctx = await contextWith([]);
    expect(
      await failures([
        'https://api.openai.com/v1',
        'http://api.openai.com/v1',
        'https://u:p@api.openai.com/',
        'https://169.254.169.254/',
        'https://api.openai.com/v1?x=1',
        42,
      ]),
    ).toEqual([
      ['1', ['https_required']],
      ['2', ['userinfo_not_allowed']],
      ['3', ['private_host']],
      ['4', ['invalid_url']],
      ['5', ['invalid_url']],
    ]);
  });

  it('says what is wrong without echoing the value', async () => {
    ctx = await contextWith([]);
    const errors = await validate(plainToInstance(LlmEntry, { base_url: 'https://10.1.2.3/secret-path' }));
    const message = Object.values(errors[0]!.constraints!)[0]!;
    expect(message).toMatch(/public host/);
    expect(message).not.toContain('10.1.2.3');
  });

  it('uses the process allowlist from the container', async () => {
    ctx = await contextWith([{ host: 'localhost', port: 8443 }]);
    expect(await failures(['https://localhost:8443/v1', 'https://localhost:9443/v1'])).toEqual([['1', ['private_host']]]);
  });
});
