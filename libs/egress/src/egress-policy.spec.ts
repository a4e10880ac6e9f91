import { jest } from '@jest/globals';
import type { AppConfig, EgressAllowEntry, PrivateNetwork } from '#agentplane/config';
import { DomainError } from '#agentplane/errors';
import type { Logger } from '#agentplane/logging';
import { EgressError } from './egress.error.js';
import { EgressPolicy } from './egress-policy.js';
import { HostResolver } from './host-resolver.js';

class TableResolver extends HostResolver {
  readonly asked: string[] = [];
  constructor(private readonly table: Record<string, string[]>) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    this.asked.push(host);
    return this.table[host] ?? [];
  }
}

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() };

function policy(table: Record<string, string[]>, allowlist: EgressAllowEntry[] = [], privateNetworks: PrivateNetwork[] = []) {
  const resolver = new TableResolver(table);
  const config = { egressAllowlist: allowlist, egressPrivateNetworks: privateNetworks } as unknown as AppConfig;
  return { policy: new EgressPolicy(config, resolver, logger as unknown as Logger), resolver };
}

const DNS = {
  'api.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'mixed.example.com': ['93.184.215.14', '10.0.0.5'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'metadata.example.com': ['169.254.169.254'],
  'azure-wireserver.example.com': ['168.63.129.16'],
  'v6private.example.com': ['fd00::1'],
  'dev.example.com': ['127.0.0.1'],
};

describe('EgressPolicy.check (save time)', () => {
  it('accepts a name whose every answer is public', async () => {
    const { policy: p } = policy(DNS);
    await expect(p.check('https://api.example.com/v1')).resolves.toMatchObject({ ok: true, href: 'https://api.example.com/v1' });
  });

  it.each([
    ['one public and one private answer', 'https://mixed.example.com/v1'],
    ['an IPv4-mapped loopback answer', 'https://mapped.example.com/'],
    ['a metadata answer', 'https://metadata.example.com/'],
    ['an Azure wireserver answer', 'https://azure-wireserver.example.com/'],
    ['a unique-local IPv6 answer', 'https://v6private.example.com/'],
  ])('refuses a name with %s', async (_what, url) => {
    const { policy: p } = policy(DNS);
    await expect(p.check(url)).resolves.toMatchObject({ ok: false, code: 'private_host' });
  });

  it('refuses a name that does not resolve', async () => {
    const { policy: p } = policy(DNS);
    await expect(p.check('https://nowhere.example.com/')).resolves.toMatchObject({ ok: false, code: 'unresolvable_host' });
  });

  it('does not ask DNS when the parse-time rules already refuse, nor for IP literals', async () => {
    const { policy: p, resolver } = policy(DNS);
    await expect(p.check('http://api.example.com/')).resolves.toMatchObject({ code: 'https_required' });
    await expect(p.check('https://127.0.0.1/')).resolves.toMatchObject({ code: 'private_host' });
    await expect(p.check('https://8.8.8.8/')).resolves.toMatchObject({ ok: true });
    expect(resolver.asked).toEqual([]);
  });

  it('lets an allowlisted name resolve to loopback, but still requires it to resolve', async () => {
    const { policy: p } = policy(DNS, [{ host: 'dev.example.com' }, { host: 'gone.example.com' }]);
    await expect(p.check('https://dev.example.com:8443/v1')).resolves.toMatchObject({ ok: true, allowlisted: true });
    await expect(p.check('https://gone.example.com/')).resolves.toMatchObject({ ok: false, code: 'unresolvable_host' });
  });

  it('assertBaseUrl throws a 422 naming the field path and returns the normalized URL', async () => {
    const { policy: p } = policy(DNS);
    await expect(p.assertBaseUrl('https://API.example.com/v1', 'llm[0].base_url')).resolves.toMatchObject({
      href: 'https://api.example.com/v1',
    });
    const error = await p.assertBaseUrl('https://mixed.example.com/', 'llm[1].base_url').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).errors).toEqual([{ path: 'llm[1].base_url', code: 'private_host', message: expect.any(String) }]);
  });
});

describe('EgressPolicy.addressesFor (connect time)', () => {
  it('resolves again and checks every address', async () => {
    const { policy: p, resolver } = policy(DNS);
    await expect(p.addressesFor('api.example.com', 443)).resolves.toEqual(DNS['api.example.com']);
    await expect(p.addressesFor('mixed.example.com', 443)).rejects.toMatchObject({ code: 'private_host' });
    await expect(p.addressesFor('nowhere.example.com', 443)).rejects.toBeInstanceOf(EgressError);
    expect(resolver.asked).toEqual(['api.example.com', 'mixed.example.com', 'nowhere.example.com']);
  });

  it('checks IP literals without DNS, brackets or not', async () => {
    const { policy: p, resolver } = policy(DNS);
    await expect(p.addressesFor('127.0.0.1', 443)).rejects.toMatchObject({ code: 'private_host' });
    await expect(p.addressesFor('[::ffff:7f00:1]', 443)).rejects.toMatchObject({ code: 'private_host' });
    await expect(p.addressesFor('[2606:4700:4700::1111]', 443)).resolves.toEqual(['2606:4700:4700::1111']);
    expect(resolver.asked).toEqual([]);
  });

  it('exempts an allowlisted host only on its listed port', async () => {
    const { policy: p } = policy(DNS, [{ host: 'dev.example.com', port: 8443 }]);
    await expect(p.addressesFor('dev.example.com', 8443)).resolves.toEqual(['127.0.0.1']);
    await expect(p.addressesFor('dev.example.com', 443)).rejects.toMatchObject({ code: 'private_host' });
  });

  it('warns at start-up listing the allowlist, and says nothing without one', () => {
    logger.warn.mockClear();
    policy(DNS).policy.onModuleInit();
    expect(logger.warn).not.toHaveBeenCalled();
    policy(DNS, [{ host: 'dev.example.com', port: 8443 }, { host: '127.0.0.1' }]).policy.onModuleInit();
    expect(logger.warn).toHaveBeenCalledWith(
      { egress_allowlist: ['dev.example.com:8443', '127.0.0.1'] },
      expect.stringContaining('AGENTPLANE_EGRESS_ALLOWLIST'),
    );
  });
});

describe('EgressPolicy with private networks (AGENTPLANE_EGRESS_PRIVATE_NETWORKS)', () => {
  const NETWORKS: PrivateNetwork[] = [
    { address: '10.20.0.0', prefixLength: 16 },
    { address: 'fd12:3456::', prefixLength: 32 },
    // Listed, but what they hold stays refused.
    { address: '127.0.0.0', prefixLength: 8 },
    { address: '169.254.0.0', prefixLength: 16 },
    { address: '100.64.0.0', prefixLength: 10 },
    { address: 'fd00::', prefixLength: 16 },
  ];
  const PRIVATE_DNS = {
    'vllm.models.example.com': ['10.20.3.7'],
    'sglang.models.example.com': ['fd12:3456::7'],
    'outside.models.example.com': ['10.21.0.1'],
    'half.models.example.com': ['10.20.3.7', '192.168.1.9'],
    'loop.models.example.com': ['127.0.0.1'],
    'meta.models.example.com': ['169.254.169.254'],
    'alibaba.models.example.com': ['100.100.100.200'],
    'aws6.models.example.com': ['fd00:ec2::254'],
    'cgnat.models.example.com': ['100.64.0.9'],
    'mapped.models.example.com': ['::ffff:10.20.0.9'],
  };

  it('accepts names and IP literals inside a listed network, at save time and at connect time', async () => {
    const { policy: p } = policy(PRIVATE_DNS, [], NETWORKS);
    for (const url of ['https://vllm.models.example.com/v1', 'https://sglang.models.example.com/v1', 'https://10.20.0.4:8000/v1']) {
      expect(await p.check(url)).toMatchObject({ ok: true });
    }
    expect(await p.check('https://cgnat.models.example.com/v1')).toMatchObject({ ok: true });
    expect(await p.check('https://mapped.models.example.com/v1')).toMatchObject({ ok: true });
    expect(await p.addressesFor('vllm.models.example.com', 443)).toEqual(['10.20.3.7']);
    expect(await p.addressesFor('[fd12:3456::9]', 443)).toEqual(['fd12:3456::9']);
  });

  it('refuses what lies outside the listed networks, and loopback, link-local and metadata addresses even when listed', async () => {
    const { policy: p } = policy(PRIVATE_DNS, [], NETWORKS);
    for (const host of [
      'outside.models.example.com',
      'half.models.example.com',
      'loop.models.example.com',
      'meta.models.example.com',
      'alibaba.models.example.com',
      'aws6.models.example.com',
    ]) {
      expect({ host, verdict: await p.check(`https://${host}/v1`) }).toMatchObject({ host, verdict: { ok: false, code: 'private_host' } });
      await expect(p.addressesFor(host, 443)).rejects.toMatchObject({ code: 'private_host' });
    }
    for (const literal of ['127.0.0.1', '169.254.169.254', '100.100.100.200', '[fd00:ec2::254]', '10.21.0.1']) {
      expect({ literal, verdict: await p.check(`https://${literal}/v1`) }).toMatchObject({
        literal,
        verdict: { ok: false, code: 'private_host' },
      });
    }
  });

  it('refuses every private address when no network is listed', async () => {
    const { policy: p } = policy(PRIVATE_DNS);
    expect(await p.check('https://vllm.models.example.com/v1')).toMatchObject({ ok: false, code: 'private_host' });
    expect(await p.check('https://10.20.0.4/v1')).toMatchObject({ ok: false, code: 'private_host' });
    await expect(p.addressesFor('vllm.models.example.com', 443)).rejects.toMatchObject({ code: 'private_host' });
  });
});
