import { type Static, type TObject, Type } from 'typebox';
import Value from 'typebox/value';
import { formatIssues } from './schema-errors.ts';
import { ProblemsError } from './problems.ts';

/** Raised when the environment does not match a service's schema; lists every problem. */
export class ConfigError extends ProblemsError {
  constructor(problems: string[]) {
    super(problems, 'invalid configuration');
  }
}

/**
 * Validates the variables a schema names against `env`, applies defaults and
 * returns a frozen object. Empty strings count as unset. Every bad variable is
 * reported at once, one line each, naming the variable and the value it had;
 * `check` adds what a schema cannot say (variables that depend on each other).
 */
export function loadConfig<S extends TObject>(
  schema: S,
  env: Record<string, string | undefined>,
  check: (value: Static<S>) => string[] = () => [],
): Readonly<Static<S>> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Default(schema, Value.Convert(schema, raw)) as Record<string, unknown>;
  const issues = [...Value.Errors(schema, value)];
  if (issues.length > 0) {
    const problems = formatIssues(issues).map((line) => {
      const name = line.slice(0, line.indexOf(':'));
      return name in raw ? `${line} (got ${JSON.stringify(raw[name])})` : line;
    });
    throw new ConfigError(problems);
  }
  const problems = check(value as Static<S>);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(value) as Readonly<Static<S>>;
}

export const LogLevel = Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  default: 'info',
});

/** Variables every service reads: where to listen, how loud to log, admin auth, RNG seed. */
export function commonEnv(defaultPort: number) {
  return {
    HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort }),
    LOG_LEVEL: LogLevel,
    ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 8 })),
    SEED: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    /** Shed requests (503 under_pressure) while the event loop lags more than this; 0: never. */
    SHED_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
    /** Shed requests while the event loop is busier than this fraction of the time; 0: never. */
    SHED_EVENT_LOOP_UTILIZATION: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  };
}

/** Event-loop-based shedding (`@fastify/under-pressure`); both 0: off. */
export interface Shedding {
  eventLoopDelayMs: number;
  eventLoopUtilization: number;
}

export const sheddingOf = (env: {
  SHED_EVENT_LOOP_DELAY_MS: number;
  SHED_EVENT_LOOP_UTILIZATION: number;
}): Shedding => ({
  eventLoopDelayMs: env.SHED_EVENT_LOOP_DELAY_MS,
  eventLoopUtilization: env.SHED_EVENT_LOOP_UTILIZATION,
});
