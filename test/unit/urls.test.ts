import { describe, expect, it } from 'vitest';
import { parseUrls } from '../../load/experiment/target.ts';

const all =
  'downstream=http://127.0.0.1:8081,gateway=http://127.0.0.1:8080/,producer=https://p.example:8082,worker=http://worker:8083//';

describe('parseUrls', () => {
  it('reads one origin per service, without trailing slashes', () => {
    expect(parseUrls(all)).toEqual({
      urls: {
        downstream: 'http://127.0.0.1:8081',
        gateway: 'http://127.0.0.1:8080',
        producer: 'https://p.example:8082',
        workers: ['http://worker:8083'],
      },
      problems: [],
    });
  });

  it('keeps an = inside a URL', () => {
    const parsed = parseUrls(all.replace('worker=http://worker:8083//', 'worker=http://w:1/?a=b'));
    expect(parsed.urls?.workers).toEqual(['http://w:1/?a=b']);
  });

  it('takes a worker per subscriber: the worker may be named more than once', () => {
    const parsed = parseUrls(`${all},worker=http://127.0.0.1:9001,worker=http://127.0.0.1:9002/`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.urls?.workers).toEqual([
      'http://worker:8083',
      'http://127.0.0.1:9001',
      'http://127.0.0.1:9002',
    ]);
  });

  it('names every problem at once: unknown, repeated, missing and malformed', () => {
    expect(
      parseUrls('gateway=http://a:1,gateway=http://b:1,cache=http://c:1,producer=ftp://p,worker=')
        .problems,
    ).toEqual([
      '--urls: gateway is named twice',
      '--urls: "cache" is not a service (downstream, gateway, producer, worker)',
      '--urls: producer needs an http(s) URL, got "ftp://p"',
      '--urls: worker needs an http(s) URL, got ""',
      '--urls: downstream=URL is missing',
    ]);
    expect(parseUrls('').problems).toHaveLength(4);
    expect(parseUrls('').urls).toBeUndefined();
  });
});
