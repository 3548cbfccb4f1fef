import type { Running } from './rpc-path.ts';

/** The hostile requests every JSON route must refuse with a clear 4xx: bodies, work routes, admin routes. */
export const adminToken = 'test-admin-token';
export const auth = { authorization: `Bearer ${adminToken}` };
export const json = { 'content-type': 'application/json' };

export interface Case {
  name: string;
  service: () => Running;
  method: string;
  path: string;
  headers?: Record<string, string>;
  rawBody?: string | Buffer;
  status: number;
  error: string;
  mentions?: string;
}

/** Bad bodies every JSON route must refuse with a clear 4xx. */
export function bodyCases(
  service: () => Running,
  method: string,
  path: string,
  headers: Record<string, string>,
  valid: object,
): Case[] {
  const base = { service, method, path };
  return [
    {
      ...base,
      name: 'invalid JSON',
      headers: { ...headers, ...json },
      rawBody: '{"id": ',
      status: 400,
      error: 'invalid_json',
    },
    {
      ...base,
      name: 'a JSON array',
      headers: { ...headers, ...json },
      rawBody: '[]',
      status: 400,
      error: 'bad_request',
      mentions: 'body',
    },
    {
      ...base,
      name: 'an unknown field',
      headers: { ...headers, ...json },
      rawBody: JSON.stringify({ ...valid, extra: 1 }),
      status: 400,
      error: 'bad_request',
      mentions: 'unknown field "extra"',
    },
    {
      ...base,
      name: 'a huge body',
      headers: { ...headers, ...json },
      rawBody: JSON.stringify({ id: 'x'.repeat(100_000) }),
      status: 413,
      error: 'payload_too_large',
    },
    {
      ...base,
      name: 'arrays nested 5 000 deep',
      headers: { ...headers, ...json },
      rawBody: `{"id":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      status: 400,
      error: 'json_too_deep',
      mentions: `deeper than`,
    },
    {
      ...base,
      name: 'bytes that are not UTF-8 in a string',
      headers: { ...headers, ...json },
      rawBody: Buffer.concat([
        Buffer.from('{"id":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
      status: 400,
      error: 'invalid_json',
      mentions: 'UTF-8',
    },
    {
      ...base,
      name: 'text/plain',
      headers: { ...headers, 'content-type': 'text/plain' },
      rawBody: 'id=1',
      status: 415,
      error: 'unsupported_media_type',
    },
    {
      ...base,
      name: 'application/xml',
      headers: { ...headers, 'content-type': 'application/xml' },
      rawBody: '<id>1</id>',
      status: 415,
      error: 'unsupported_media_type',
    },
  ];
}

export const workCases = (service: () => Running, path: string): Case[] => [
  ...bodyCases(service, 'POST', path, {}, { id: 'ok' }),
  {
    name: 'a numeric id',
    service,
    method: 'POST',
    path,
    headers: json,
    rawBody: '{"id": 5}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.id: must be string',
  },
  {
    name: 'no id',
    service,
    method: 'POST',
    path,
    headers: json,
    rawBody: '{}',
    status: 400,
    error: 'bad_request',
    mentions: 'missing required field "id"',
  },
  {
    name: 'an empty id',
    service,
    method: 'POST',
    path,
    headers: json,
    rawBody: '{"id": ""}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.id',
  },
  {
    name: 'no body at all',
    service,
    method: 'POST',
    path,
    status: 400,
    error: 'bad_request',
    mentions: 'body',
  },
];

export const adminCases = (service: () => Running, path: string, validPut: object): Case[] => [
  { name: 'GET without a token', service, method: 'GET', path, status: 401, error: 'unauthorized' },
  {
    name: 'GET with a wrong token',
    service,
    method: 'GET',
    path,
    headers: { authorization: 'Bearer wrong-token' },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'PUT without a token',
    service,
    method: 'PUT',
    path,
    headers: json,
    rawBody: JSON.stringify(validPut),
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'PUT with a malformed header',
    service,
    method: 'PUT',
    path,
    headers: { ...json, authorization: adminToken },
    rawBody: JSON.stringify(validPut),
    status: 401,
    error: 'unauthorized',
  },
  ...bodyCases(service, 'PUT', path, auth, validPut),
];
