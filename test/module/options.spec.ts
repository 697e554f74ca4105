import { describe, it, expect } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FulfilmentModule, FulfilmentOptionsError } from 'nestjs-fulfilment';
import { validateFulfilmentOptions } from '../../libs/fulfilment/src/fulfilment.options.js';
import { createTestDatabase } from '../support/test-database.js';

const SECRET = 'whsec_do_not_print_me_1234567890';
const API_KEY = 'caryrx-key-do-not-print-0987';
const valid = {
  caryrx: { baseUrl: 'https://caryrx.example.test', apiKey: API_KEY, environment: 'development' as const },
  scriptdrop: { baseUrl: 'https://delivery.example.test', apiKey: 'pk_live_key', apiSecret: 'tesk_secret_value_42' },
  webhooks: { publicUrl: 'https://host.example.test', secret: SECRET },
};

/** Each kind of mistake, the path the message must name, and the rule it must state. */
const MISTAKES: Array<[string, Record<string, unknown>, string]> = [
  ['empty api key', { ...valid, caryrx: { ...valid.caryrx, apiKey: '' } }, 'caryrx.apiKey must be a non-empty string'],
  ['api key of the wrong type', { ...valid, caryrx: { ...valid.caryrx, apiKey: 42 } }, 'caryrx.apiKey must be a non-empty string'],
  ['base URL that is not a URL', { ...valid, caryrx: { ...valid.caryrx, baseUrl: 'caryrx.example' } }, 'caryrx.baseUrl must be an absolute http(s) URL'],
  [
    'credentials in the base URL',
    { ...valid, scriptdrop: { ...valid.scriptdrop, baseUrl: 'https://pk:sk@delivery.example.test' } },
    'scriptdrop.baseUrl must not carry credentials',
  ],
  ['unknown environment', { ...valid, caryrx: { ...valid.caryrx, environment: 'staging' } }, 'caryrx.environment must be one of development, uat, production'],
  ['missing api secret', { ...valid, scriptdrop: { ...valid.scriptdrop, apiSecret: undefined } }, 'scriptdrop.apiSecret must be a non-empty string'],
  ['colon in the Basic user', { ...valid, scriptdrop: { ...valid.scriptdrop, apiKey: 'pk:x' } }, 'scriptdrop.apiKey must not contain ":"'],
  ['sync interval too short', { ...valid, sync: { intervalMs: 10 } }, 'sync.intervalMs must be an integer ≥ 1000'],
  ['batch size out of range', { ...valid, sync: { batchSize: 5000 } }, 'sync.batchSize must be an integer from 1 to 1000'],
  ['sync.enabled not a boolean', { ...valid, sync: { enabled: 'yes' } }, 'sync.enabled must be a boolean'],
  ['short webhook secret', { ...valid, webhooks: { secret: 'short' } }, 'webhooks.secret must be a string of at least 16 characters'],
  [
    'three webhook secrets',
    { ...valid, webhooks: { secret: [SECRET, SECRET, SECRET] } },
    'webhooks.secret must be one secret, or two during rotation',
  ],
  [
    'secret with characters a URL would mangle',
    { ...valid, webhooks: { secret: 'abc def/ghi?jkl&mnop' } },
    'webhooks.secret must use only URL-safe characters',
  ],
  ['caryrx without webhooks', { caryrx: valid.caryrx }, 'webhooks.secret is required when caryrx is configured'],
  ['bad route prefix', { ...valid, webhooks: { secret: SECRET, routePrefix: 'a b' } }, 'webhooks.routePrefix must be a URL path'],
  ['a typo in an option name', { ...valid, sync: { intervalMS: 5000 } }, 'sync.intervalMS is not a known option'],
  ['no provider and no sandbox', { webhooks: { secret: SECRET } }, 'caryrx or scriptdrop must be configured'],
  ['sandbox of the wrong type', { sandbox: 'yes' }, 'sandbox must be a boolean or an object'],
  [
    'sandbox beside CaryRx credentials',
    { ...valid, sandbox: true },
    'caryrx.apiKey must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
  ],
  ['sandbox beside a ScriptDrop secret', { sandbox: { stepMs: 0 }, scriptdrop: { apiSecret: 'tesk_secret_value_42' } }, 'scriptdrop.apiSecret must not be set with sandbox'],
  ['metrics of the wrong type', { ...valid, metrics: 'prometheus' }, 'metrics must be a boolean or an object'],
  ['a metrics registry that is not one', { ...valid, metrics: { registry: {} } }, 'metrics.registry must be a prom-client Registry'],
  ['a typo in the metrics options', { ...valid, metrics: { registery: {} } }, 'metrics.registery is not a known option'],
];

describe('FulfilmentModule options', () => {
  it('accepts a complete configuration and fills the defaults', () => {
    const resolved = validateFulfilmentOptions(valid);
    expect(resolved.caryrx).toMatchObject({ timeoutMs: 10_000, maxRetries: 2, environment: 'development' });
    expect(resolved.webhooks).toMatchObject({ routePrefix: 'fulfilment', secrets: [SECRET], publicUrl: 'https://host.example.test' });
    expect(resolved.sync).toEqual({ enabled: true, intervalMs: 30_000, batchSize: 50, concurrency: 4, leaseMs: 60_000, reconcileWindowMs: 1_800_000 });
    expect(resolved.events).toEqual({ leaseMs: 30_000, redeliverIntervalMs: 5_000, maxFailures: 10 });
    expect(resolved.sandbox).toBe(false);
    expect(resolved.metrics).toEqual({});
  });

  it('accepts sandbox mode without provider blocks', () => {
    expect(validateFulfilmentOptions({ sandbox: true }).sandbox).toEqual({
      stepMs: 1000,
      caryrx: { timeoutMs: 10_000, maxRetries: 2 },
      scriptdrop: { timeoutMs: 10_000, maxRetries: 2 },
    });
  });

  it('takes timeouts and retries, and nothing else, from provider blocks beside sandbox', () => {
    const resolved = validateFulfilmentOptions({ sandbox: true, scriptdrop: { timeoutMs: 500, maxRetries: 0 } });
    expect(resolved.sandbox).toMatchObject({ scriptdrop: { timeoutMs: 500, maxRetries: 0 } });
    expect(resolved.scriptdrop).toBeUndefined();
    let error: unknown;
    try {
      validateFulfilmentOptions({ ...valid, sandbox: true });
    } catch (err) {
      error = err;
    }
    // Every credential and URL is named, none is printed.
    expect((error as FulfilmentOptionsError).problems).toEqual([
      'caryrx.baseUrl must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
      'caryrx.apiKey must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
      'caryrx.environment must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
      'scriptdrop.baseUrl must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
      'scriptdrop.apiKey must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
      'scriptdrop.apiSecret must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)',
    ]);
  });

  it.each(MISTAKES)('names the path for %s, without printing a secret', (_kind, options, expected) => {
    let error: unknown;
    try {
      validateFulfilmentOptions(options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FulfilmentOptionsError);
    const message = (error as Error).message;
    expect(message).toContain(expected);
    for (const secret of [SECRET, API_KEY, 'tesk_secret_value_42', 'pk:sk']) expect(message).not.toContain(secret);
  });

  it('reports every problem in one error', () => {
    expect(() =>
      validateFulfilmentOptions({
        caryrx: { baseUrl: 'nope', apiKey: '', environment: 'prod' },
        webhooks: { secret: 'x' },
        sync: { intervalMs: 1 },
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'caryrx.baseUrl must be an absolute http(s) URL',
          'caryrx.apiKey must be a non-empty string',
          'caryrx.environment must be one of development, uat, production',
          'webhooks.secret must be a string of at least 16 characters',
          'sync.intervalMs must be an integer ≥ 1000',
        ],
      }) as never,
    );
  });

  it('names each bad outbox and reconciliation option, and an unknown one', () => {
    expect(() =>
      validateFulfilmentOptions({
        sandbox: true,
        sync: { reconcileWindowMs: -1 },
        events: { leaseMs: 10, redeliverIntervalMs: 'often', maxFailures: 0, retries: 3 },
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'sync.reconcileWindowMs must be an integer ≥ 0',
          'events.retries is not a known option',
          'events.leaseMs must be an integer ≥ 1000',
          'events.redeliverIntervalMs must be an integer ≥ 100',
          'events.maxFailures must be an integer ≥ 1',
        ],
      }) as never,
    );
    expect(() => validateFulfilmentOptions({ sandbox: true, events: 'yes' })).toThrow(expect.objectContaining({ problems: ['events must be an object'] }) as never);
  });

  describe('at boot', () => {
    // The DataSource is not connected (manualInitialization): boot must fail on options alone.
    const boot = async (dynamicModule: ReturnType<typeof FulfilmentModule.forRoot>) => {
      const db = await createTestDatabase();
      try {
        const moduleRef = await Test.createTestingModule({ imports: [TypeOrmModule.forRoot({ ...db.options, manualInitialization: true }), dynamicModule] }).compile();
        await moduleRef.close();
        return undefined;
      } catch (err) {
        return err as Error;
      } finally {
        await db.cleanup();
      }
    };

    it('forRoot refuses to start with bad options, naming the path and not the secret', async () => {
      const error = await boot(FulfilmentModule.forRoot({ ...valid, caryrx: { ...valid.caryrx, apiKey: '' }, sync: { intervalMs: 5 } }));
      expect(error).toBeInstanceOf(FulfilmentOptionsError);
      expect(error?.message).toContain('caryrx.apiKey must be a non-empty string');
      expect(error?.message).toContain('sync.intervalMs must be an integer ≥ 1000');
      expect(error?.message).not.toContain(SECRET);
    });

    it('sandbox: true with real provider credentials refuses to start, naming the options and not their values', async () => {
      const error = await boot(FulfilmentModule.forRootAsync({ useFactory: () => ({ ...valid, sandbox: true }) }));
      expect(error).toBeInstanceOf(FulfilmentOptionsError);
      expect(error?.message).toContain('caryrx.apiKey must not be set with sandbox');
      expect(error?.message).toContain('scriptdrop.apiSecret must not be set with sandbox');
      for (const secret of [SECRET, API_KEY, 'tesk_secret_value_42', 'pk_live_key']) expect(error?.message).not.toContain(secret);
    });

    it('forRootAsync refuses to start with bad options from the factory', async () => {
      const error = await boot(
        FulfilmentModule.forRootAsync({
          useFactory: async () => ({ ...valid, webhooks: { secret: `${SECRET} with spaces` } }),
        }),
      );
      expect(error).toBeInstanceOf(FulfilmentOptionsError);
      expect(error?.message).toContain('webhooks.secret must use only URL-safe characters');
      expect(error?.message).not.toContain(SECRET);
    });
  });
});
