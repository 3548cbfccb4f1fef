import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/processes.ts';
export const run = promisify(execFile);
export const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
export const composeText = read('docker-compose.yml');

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { aliases?: string[] }>;
  deploy?: { replicas?: number | string; resources?: { limits?: { memory?: string } } };
}
export const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
};
export const ownImage = Object.entries(compose.services).filter(
  ([, service]) => service.image === 'cascade-lab:local',
);
/** One-shot runners (`docker compose run`, profiles only): the load runner, the split run's generators and merge. */
export const isRunner = (service: ComposeService) => service.profiles !== undefined;
/** The topic's worker groups, `worker-<subscriber>`: each is what `serve worker` runs. */
export const workerServices = ownImage.filter(([name]) => name.startsWith('worker-'));
/** A compose service's program: `worker-billing` runs the worker. */
export const programOf = (name: string) => (name.startsWith('worker-') ? 'worker' : name);
/** The services that run one program. */
export const servicesOf = (program: string) =>
  program === 'worker'
    ? workerServices.map(([, service]) => service)
    : [compose.services[program]!];

/** The current compose-spec JSON schema, as the dclint package ships it. */
export function composeValidator() {
  const { $schema, ...schema } = JSON.parse(
    readFileSync(path.join(repoRoot, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
  ) as { $schema: string };
  // It is draft-07 (named by its https address, which Ajv knows as http).
  expect($schema).toMatch(/draft-07/);
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}
