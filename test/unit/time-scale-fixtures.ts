import { defaultFailureModel } from '../../services/downstream/failure-model.ts';
import { presets } from '../../services/gateway/policy.ts';
import { defaultProducerPolicy } from '../../services/shared/event-job.ts';
import { defaultsOf } from '../../services/shared/schemas.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import { type Bases, invariantRates } from '../../load/experiment/time-scale.ts';
export const bases: Bases = {
  model: defaultFailureModel,
  gateway: presets.safe,
  producer: defaultProducerPolicy,
  worker: defaultsOf(WorkerPolicy),
};

export interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
}

/** Every numeric field of a schema, by its name, with unions and arrays walked. */
export function numericFields(schema: Node, name = ''): string[] {
  if (schema.type === 'number' || schema.type === 'integer') return [name];
  if (schema.anyOf) return schema.anyOf.flatMap((variant) => numericFields(variant, name));
  if (schema.items) return numericFields(schema.items, name);
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
    numericFields(child, key),
  );
}

/** What each schema's fields that are counts, ratios or switches are, so a new time field cannot hide among them. */
export const knownInvariants = new Set([
  'failProbability',
  'overloadFailProbability',
  'maxFailProbability',
  'fraction',
  // An error fault's HTTP status: a code, not a quantity.
  'status',
  // HTTP statuses a load target counts as ok: codes too.
  'okStatuses',
  'maxRetries',
  'windowSize',
  'failureThreshold',
  'maxConcurrent',
  'maxQueue',
  'ratio',
  'k',
  'maxDepth',
  'keepCompleted',
  'concurrency',
  // Requests worked on and waiting at once: counts (Little's law: rate ÷ k × time × k).
  'poolConcurrency',
  'poolQueueSize',
  // Keys of a contended resource: a count.
  'conflictKeys',
  // The adaptive concurrency limit's bounds (counts) and its smoothing (a ratio).
  'initialLimit',
  'minLimit',
  'maxLimit',
  'smoothing',
  'total',
  'burst',
  // Token-bucket retry throttling: tokens move with outcomes, not with time.
  'maxTokens',
  'retryCost',
  'timeoutRetryCost',
  'overloadRetryCost',
  'failureCost',
  'successTokens',
  'retryThreshold',
  // Envoy's retry budget: retries in flight, a count; client instances, a count.
  'minRetryConcurrency',
  'clients',
  // A closed loop's users, and a Poisson schedule's seed: a count and a name.
  'users',
  'seed',
  ...Object.keys(invariantRates),
]);
