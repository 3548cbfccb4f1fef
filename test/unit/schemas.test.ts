import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { FailureModelParams } from '../../services/downstream/failure-model.ts';
import { FaultSpec } from '../../services/downstream/faults.ts';
import {
  applyPolicyUpdate,
  Policy,
  PolicyError,
  PolicyUpdate,
  presets,
} from '../../services/gateway/policy.ts';
import { formatIssues } from '../../services/shared/schema-errors.ts';

function problems(schema: TSchema, value: unknown): string[] {
  return formatIssues(Value.Errors(schema, value), 'body');
}

describe('policy schema', () => {
  it('accepts every preset', () => {
    for (const policy of Object.values(presets)) expect(problems(Policy, policy)).toEqual([]);
  });

  it.each([
    [{ backoff: { capMs: -1 } }, 'body.backoff.capMs: must be >= 0'],
    [
      { backoff: { jitter: 'random' } },
      'body.backoff.jitter: must be one of none, full, equal, decorrelated',
    ],
    [{ maxRetries: 2.5 }, 'body.maxRetries: must be integer'],
    [{ maxRetries: '3' }, 'body.maxRetries: must be integer'],
    [{ perAttemptTimeoutMs: 0 }, 'body.perAttemptTimeoutMs: must be >= 1'],
    [{ bulkhead: { maxConcurrent: 0 } }, 'body.bulkhead.maxConcurrent: must be >= 1'],
    [{ retryBudget: { ratio: -0.1 } }, 'body.retryBudget.ratio: must be >= 0'],
    [{ throttling: { k: 0.5 } }, 'body.throttling.k: must be >= 1'],
    [
      { preset: 'reckless' },
      'body.preset: must be one of safe, unsafe, budgeted, aws-sdk-standard, aws-sdk-2026, grpc, envoy, finagle, polly, resilience4j',
    ],
    [{ breaker: { open: true } }, 'body.breaker: unknown field "open"'],
    [{ retries: 3 }, 'body: unknown field "retries"'],
  ])('rejects %j with "%s"', (update, message) => {
    expect(problems(PolicyUpdate, update)).toContain(message);
  });

  it('starts from a preset, applies overrides, and names the result', () => {
    expect(applyPolicyUpdate(presets.safe, { preset: 'unsafe' }).preset).toBe('unsafe');
    const custom = applyPolicyUpdate(presets.safe, {
      preset: 'budgeted',
      backoff: { jitter: 'equal' },
    });
    expect(custom.preset).toBe('custom');
    expect(custom.policy.backoff).toEqual({ ...presets.budgeted.backoff, jitter: 'equal' });
    expect(custom.policy.retryBudget.enabled).toBe(true);
    expect(applyPolicyUpdate(custom.policy, { preset: 'safe' }).preset).toBe('safe');
  });

  it('rejects a breaker threshold above its window', () => {
    expect(() =>
      applyPolicyUpdate(presets.safe, { breaker: { failureThreshold: 21 } }),
    ).toThrowError(PolicyError);
  });

  it('has presets matching the issue: unsafe retries at once with nothing to stop it; budgeted adds the budget and throttling', () => {
    expect(presets.safe).toMatchObject({
      perAttemptTimeoutMs: 120,
      maxRetries: 3,
      backoff: { kind: 'exponential', baseMs: 20, capMs: 400, jitter: 'full' },
      breaker: { enabled: true, windowSize: 20, failureThreshold: 8, openMs: 500 },
      bulkhead: { enabled: true, maxConcurrent: 40 },
      retryBudget: { enabled: false },
      throttling: { enabled: false },
    });
    expect(presets.unsafe).toMatchObject({
      maxRetries: 3,
      backoff: { kind: 'none', jitter: 'none' },
      breaker: { enabled: false },
      bulkhead: { enabled: false },
    });
    expect(presets.budgeted).toMatchObject({
      retryBudget: { enabled: true, ratio: 0.1 },
      throttling: { enabled: true, k: 2 },
    });
  });
});

describe('fault schemas', () => {
  it.each([
    [{ kind: 'explode', durationMs: 10 }, 'body.kind: must be one of error, latency, hang, reset'],
    [{ kind: 'error', durationMs: 0 }, 'body.durationMs: must be >= 1'],
    [{ kind: 'error', durationMs: 10, fraction: 2 }, 'body.fraction: must be <= 1'],
    [{ kind: 'error' }, 'body: missing required field "durationMs"'],
    [{ kind: 'error', durationMs: 10, until: 5 }, 'body: unknown field "until"'],
  ])('rejects fault %j with "%s"', (spec, message) => {
    expect(problems(FaultSpec, spec)).toContain(message);
  });

  it('rejects model values out of range', () => {
    expect(
      problems(FailureModelParams, { ...Value.Create(FailureModelParams), failProbability: 1.5 }),
    ).toEqual(['body.failProbability: must be <= 1']);
    expect(
      problems(FailureModelParams, { ...Value.Create(FailureModelParams), capacityRps: 0 }),
    ).toEqual(['body.capacityRps: must be > 0']);
  });
});

describe('formatIssues', () => {
  it('writes one line per unknown or missing field, whichever validator reported it', () => {
    const typebox = [
      {
        keyword: 'boolean',
        schemaPath: '#/additionalProperties',
        instancePath: '/a',
        message: 'schema is false',
      },
      {
        keyword: 'additionalProperties',
        instancePath: '',
        params: { additionalProperties: ['a', 'b'] },
      },
      { keyword: 'required', instancePath: '', params: { requiredProperties: ['id'] } },
    ];
    expect(formatIssues(typebox, 'body')).toEqual([
      'body: unknown field "a"',
      'body: unknown field "b"',
      'body: missing required field "id"',
    ]);
    const ajv = [
      { keyword: 'additionalProperties', instancePath: '/x', params: { additionalProperty: 'c' } },
    ];
    expect(formatIssues(ajv, 'body')).toEqual(['body.x: unknown field "c"']);
  });
});
