import { isUtf8 } from 'node:buffer';
import type { FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';

/** An answer for bad input: the status, the stable code the body names, a sentence. */
export class BadInput extends Error {
  readonly statusCode: number;
  readonly errorCode: string;

  constructor(statusCode: number, errorCode: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }
}

/** How deep a route's JSON body may nest (arrays and objects), unless the route says. */
export const defaultMaxJsonDepth = 32;

/** A route's limits on its JSON body, for its options: size in bytes (413 beyond) and nesting (400). */
export const bodyLimits = (maxBytes: number, maxDepth: number) => ({
  bodyLimit: maxBytes,
  config: { maxJsonDepth: maxDepth },
});

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How deep this route's JSON body may nest. @defaultValue 32 */
    maxJsonDepth?: number;
  }
}

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, read without parsing
 * (brackets inside strings do not count), so a body built to exhaust the stack of
 * whatever later walks it (validation, BullMQ's JSON.stringify) is refused first.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i += 1; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * Fastify's JSON body parser, stricter: the bytes must be UTF-8 (RFC 8259; Fastify would
 * decode bad bytes to U+FFFD and store an id the client never sent), the nesting within
 * the route's `maxJsonDepth`, and `__proto__`/`constructor.prototype` keys are refused
 * as Fastify refuses them.
 */
export function parseJsonBody(
  request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, value?: unknown) => void,
): void {
  if (body.length === 0)
    return done(new BadInput(400, 'invalid_json', 'body is empty: send a JSON document'));
  if (!isUtf8(body))
    return done(
      new BadInput(
        400,
        'invalid_json',
        'body is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)',
      ),
    );
  const text = body.toString('utf8');
  const limit = request.routeOptions.config.maxJsonDepth ?? defaultMaxJsonDepth;
  if (nestsDeeperThan(text, limit))
    return done(
      new BadInput(
        400,
        'json_too_deep',
        `body nests arrays or objects deeper than ${limit} levels, the limit for ${request.method} ${request.routeOptions.url ?? request.url}`,
      ),
    );
  try {
    done(
      null,
      secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
    );
  } catch (error) {
    done(new BadInput(400, 'invalid_json', `body is not valid JSON: ${(error as Error).message}`));
  }
}
