import { type Static, Type } from 'typebox';
import { defaultsOf, strictPartial, withoutDefaults } from '../shared/schemas.ts';
import { ThrottlingPolicy } from './adaptive-throttle.ts';
import { BackoffPolicy } from '../shared/backoff.ts';
import { BreakerPolicy } from './layers/breaker.ts';
import { AdaptiveConcurrencyPolicy } from './layers/adaptive-concurrency.ts';
import { BulkheadPolicy } from './layers/bulkhead.ts';
import { RetryBudgetPolicy } from './retry-budget.ts';
import { RetryTokensPolicy } from './retry-tokens.ts';
import { clientPresetNames, clientPresets } from './client-presets.ts';
import { Policy } from './policy-schema.ts';

export { Policy } from './policy-schema.ts';

export const presetNames = ['safe', 'unsafe', 'budgeted', ...clientPresetNames] as const;
export type PresetName = (typeof presetNames)[number];

/** The schema's defaults: the seed's policy. */
const safe: Policy = defaultsOf(Policy);

/**
 * `safe` is the seed's policy; `unsafe` retries at once with nothing to stop it; `budgeted` adds
 * the budget and throttling; the rest are real clients' defaults (client-presets.ts).
 */
export const presets: Readonly<Record<PresetName, Policy>> = {
  safe,
  unsafe: {
    ...safe,
    backoff: { ...safe.backoff, kind: 'none', jitter: 'none' },
    breaker: { ...safe.breaker, enabled: false },
    bulkhead: { ...safe.bulkhead, enabled: false },
  },
  budgeted: {
    ...safe,
    retryBudget: { ...safe.retryBudget, enabled: true },
    throttling: { ...safe.throttling, enabled: true },
  },
  ...clientPresets(safe),
};

/** A change to the policy: optionally a preset to start from, then any fields to override. */
export const PolicyUpdate = withoutDefaults(
  Type.Object(
    {
      preset: Type.Optional(Type.Enum([...presetNames])),
      perAttemptTimeoutMs: Type.Optional(Policy.properties.perAttemptTimeoutMs),
      maxRetries: Type.Optional(Policy.properties.maxRetries),
      retryOnOverload: Type.Optional(Policy.properties.retryOnOverload),
      backoff: Type.Optional(strictPartial(BackoffPolicy)),
      breaker: Type.Optional(strictPartial(BreakerPolicy)),
      bulkhead: Type.Optional(strictPartial(BulkheadPolicy)),
      adaptiveConcurrency: Type.Optional(strictPartial(AdaptiveConcurrencyPolicy)),
      retryBudget: Type.Optional(strictPartial(RetryBudgetPolicy)),
      retryTokens: Type.Optional(strictPartial(RetryTokensPolicy)),
      throttling: Type.Optional(strictPartial(ThrottlingPolicy)),
      clients: Type.Optional(Policy.properties.clients),
    },
    { additionalProperties: false },
  ),
);
export type PolicyUpdate = Static<typeof PolicyUpdate>;

export interface NamedPolicy {
  /** The preset it equals, or `custom`. */
  preset: PresetName | 'custom';
  policy: Policy;
}

export class PolicyError extends Error {}

/** Applies an update to the current policy; throws PolicyError for what the schema can't check. */
export function applyPolicyUpdate(current: Policy, update: PolicyUpdate): NamedPolicy {
  const { preset, ...overrides } = update;
  const base = preset ? presets[preset] : current;
  const policy: Policy = {
    ...base,
    ...(overrides.perAttemptTimeoutMs !== undefined
      ? { perAttemptTimeoutMs: overrides.perAttemptTimeoutMs }
      : {}),
    ...(overrides.maxRetries !== undefined ? { maxRetries: overrides.maxRetries } : {}),
    ...(overrides.retryOnOverload !== undefined
      ? { retryOnOverload: overrides.retryOnOverload }
      : {}),
    backoff: { ...base.backoff, ...overrides.backoff },
    breaker: { ...base.breaker, ...overrides.breaker },
    bulkhead: { ...base.bulkhead, ...overrides.bulkhead },
    adaptiveConcurrency: { ...base.adaptiveConcurrency, ...overrides.adaptiveConcurrency },
    retryBudget: { ...base.retryBudget, ...overrides.retryBudget },
    retryTokens: { ...base.retryTokens, ...overrides.retryTokens },
    throttling: { ...base.throttling, ...overrides.throttling },
    ...(overrides.clients !== undefined ? { clients: overrides.clients } : {}),
  };
  if (policy.breaker.failureThreshold > policy.breaker.windowSize) {
    throw new PolicyError(
      `breaker.failureThreshold (${policy.breaker.failureThreshold}) must be ≤ breaker.windowSize (${policy.breaker.windowSize})`,
    );
  }
  return { preset: presetMatching(policy), policy };
}

function presetMatching(policy: Policy): PresetName | 'custom' {
  const json = JSON.stringify(policy);
  return presetNames.find((name) => JSON.stringify(presets[name]) === json) ?? 'custom';
}
