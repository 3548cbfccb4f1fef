import { afterEach } from 'vitest';
import { buildDownstream } from '../../services/downstream/app.ts';
import {
  defaultFailureModel,
  type FailureModelParams,
} from '../../services/downstream/failure-model.ts';
import { buildGateway } from '../../services/gateway/app.ts';
import { applyPolicyUpdate, type PolicyUpdate, presets } from '../../services/gateway/policy.ts';
import type { App } from '../../services/shared/http-app.ts';
import { call, scrape } from './http.ts';

export interface Running {
  app: App;
  url: string;
}

async function listen(app: App): Promise<Running> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: address };
}

/** A downstream on a free port; by default fast and never failing, so tests add exactly the faults they mean. */
export function startDownstream(
  model: Partial<FailureModelParams> = {},
  options: { adminToken?: string; seed?: number } = {},
): Promise<Running> {
  return listen(
    buildDownstream({
      model: {
        ...defaultFailureModel,
        baseLatencyMs: 1,
        jitterMs: 0,
        failProbability: 0,
        ...model,
      },
      seed: options.seed ?? 1,
      adminToken: options.adminToken,
    }),
  );
}

/** A gateway on a free port in front of `downstreamUrl`, with the safe preset plus `update`. */
export function startGateway(
  downstreamUrl: string,
  update: PolicyUpdate = {},
  options: { adminToken?: string } = {},
): Promise<Running> {
  return listen(
    buildGateway({
      downstreamUrl,
      downstreamConnections: 64,
      policy: applyPolicyUpdate(presets.safe, update).policy,
      seed: 1,
      adminToken: options.adminToken,
    }),
  );
}

/**
 * Servers to close after each test of the file, newest first: `keep` registers a running
 * app and returns it, `open` takes anything else with a `close`.
 */
export function closeAfterEach() {
  const open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  const keep = (running: Running) => {
    open.push(running.app);
    return running;
  };
  return { open, keep };
}

/**
 * A gateway in front of a downstream of its own (both kept for closing after the test), and
 * what a test asks of them: an rpc, the downstream's call count, a fault added.
 */
export async function startRpcPath(
  keep: (running: Running) => Running,
  model: Parameters<typeof startDownstream>[0],
  update: PolicyUpdate,
) {
  const downstream = keep(await startDownstream(model));
  const gateway = keep(await startGateway(downstream.url, update));
  const rpc = (id: string) => call(`${gateway.url}/rpc`, { body: { id } });
  const downstreamCalls = () => scrape(downstream.url, 'downstream_requests_total');
  const addFault = (fault: Record<string, unknown>) =>
    call(`${downstream.url}/admin/faults`, { method: 'PUT', body: { faults: [fault] } });
  return { downstream, gateway, rpc, downstreamCalls, addFault };
}
