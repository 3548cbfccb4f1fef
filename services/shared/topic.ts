import { Type } from 'typebox';

const namePattern = '[a-z0-9][a-z0-9_-]{0,62}';

/** A subscriber's name: what its queue, its DLQ, its worker's caller name and metric label carry. */
export const SubscriberName = Type.String({ pattern: `^${namePattern}$` });

/** `SUBSCRIBER`: one subscriber of the topic QUEUE_NAME; empty: the queue QUEUE_NAME itself. */
export const subscriberEnv = Type.String({ pattern: `^$|^${namePattern}$`, default: '' });

/** `SUBSCRIBERS`: a topic's subscribers, comma-separated; empty: one, the queue QUEUE_NAME. */
export const subscribersEnv = Type.String({
  pattern: `^$|^${namePattern}(,${namePattern})*$`,
  default: '',
});

/**
 * The queue one subscriber of a topic reads: `<topic>.<subscriber>`. A topic without
 * named subscribers has one, and its queue is the topic itself: a plain queue is the
 * one-subscriber case of a topic, not a second kind of thing.
 */
export const subscriberQueue = (topic: string, subscriber?: string) =>
  subscriber === undefined ? topic : `${topic}.${subscriber}`;

/** `billing,audit` → `['billing', 'audit']`; empty → no named subscribers. */
export const parseSubscribers = (list: string): string[] =>
  list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

/** A worker's `x-cascade-caller` (and the downstream's `caller` label): `worker/<subscriber or queue>`. */
export const workerCaller = (name: string) => `worker/${name}`;

/** Who a worker of a subscriber is, to the downstream, and the prefix of its idempotency keys. */
export function subscriberIdentity(topic: string, subscriber?: string) {
  return {
    caller: workerCaller(subscriber ?? topic),
    keyPrefix: subscriber ? `${topic}/${subscriber}` : topic,
  };
}
