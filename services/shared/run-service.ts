import { createRequire } from 'node:module';
import closeWithGrace from 'close-with-grace';
import type { FastifyServerOptions } from 'fastify';
import { ConfigError } from './config.ts';
import type { App } from './http-app.ts';

export interface RunnableConfig {
  HOST: string;
  PORT: number;
  LOG_LEVEL: string;
}

/** Whether pino-pretty can be loaded: a dev dependency, so the image has none. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * Pino options: JSON lines, pretty only when a human is watching a terminal and
 * pino-pretty is there (`docker run -it` on the image has a terminal and no pino-pretty).
 */
export function loggerOptions(
  level: string,
  service: string,
  terminal = process.stdout.isTTY === true,
  prettyAvailable = prettyInstalled,
): FastifyServerOptions['logger'] {
  const pretty =
    terminal && prettyAvailable()
      ? { target: 'pino-pretty', options: { colorize: true } }
      : undefined;
  return { level, name: service, ...(pretty ? { transport: pretty } : {}) };
}

/**
 * The whole of a service's `main.ts`: parse env (exit 1 naming every bad
 * variable), build, listen, and on SIGTERM/SIGINT stop accepting, let in-flight
 * requests finish and close (forced after `graceMs`).
 */
export async function runService<C extends RunnableConfig>(
  service: string,
  load: (env: NodeJS.ProcessEnv) => C,
  build: (config: C, logger: FastifyServerOptions['logger']) => App | Promise<App>,
  { graceMs = 10_000 } = {},
): Promise<App> {
  let config: C;
  try {
    config = load(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await build(config, loggerOptions(config.LOG_LEVEL, service));
  closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error');
    else app.log.info({ signal }, 'closing: no new requests, finishing in-flight ones');
    await app.close();
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  return app;
}
