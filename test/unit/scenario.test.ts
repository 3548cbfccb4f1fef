import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadScenario,
  parseScenario,
  onTopic,
  ScenarioError,
} from '../../load/scenario/scenario.ts';
import { rowNames, thresholdsPerRow } from '../../load/scenario/runs.ts';
import { scenarioProblems } from '../../load/scenario/problems.ts';
import { repoRoot } from '../support/processes.ts';

const minimal = {
  name: 'demo',
  load: { kind: 'constant', ratePerSecond: 10, durationMs: 1000 },
  runs: [{ name: 'a', target: 'rpc' }],
};

describe('scenario files', () => {
  it('every shipped scenario is valid', () => {
    const dir = path.join(repoRoot, 'scenarios');
    const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
    expect(files).toContain('seed.yaml');
    for (const file of files) expect(() => loadScenario(path.join(dir, file))).not.toThrow();
  });

  it('every published result (scenarios/published) names its source, states its figures as thresholds, repeats, and has its section in docs/published.md', () => {
    const dir = path.join(repoRoot, 'scenarios/published');
    const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const doc = readFileSync(path.join(repoRoot, 'docs/published.md'), 'utf8');
    for (const file of files) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      expect(text.startsWith('# Source: '), file).toBe(true);
      const scenario = loadScenario(path.join(dir, file));
      expect(scenario.thresholds?.length ?? 0, file).toBeGreaterThan(0);
      expect(scenario.repeat ?? 1, file).toBeGreaterThanOrEqual(3);
      expect(doc, file).toContain(`scenarios/published/${file}`);
    }
  });

  it('reads the seed scenario as the article set it up', () => {
    const seed = loadScenario(path.join(repoRoot, 'scenarios/seed.yaml'));
    expect(seed.load).toEqual({ kind: 'bursts', total: 2000, burst: 350, gapMs: 80 });
    expect(seed.runs.map((run) => `${run.name}:${run.target}`)).toEqual([
      'rpc-safe:rpc',
      'events:events',
    ]);
  });

  it('accepts a minimal scenario', () => {
    expect(scenarioProblems(minimal)).toEqual([]);
  });

  it('names the path of every problem, one line each', () => {
    const problems = scenarioProblems({
      ...minimal,
      load: { kind: 'bursts', total: 0 },
      faults: [{ at: -1, kind: 'error', durationMs: 10 }],
      runs: [
        { name: 'ok', target: 'rpc' },
        { name: 'bad', target: 'rpc', policy: { backoff: { capMs: -5 }, retries: 3 } },
        { name: 'ev', target: 'events', worker: { concurrency: 0 } },
        { name: 'x', target: 'carrier-pigeon' },
      ],
      thresholds: ['bad.p99_ms < 500', 'ghost.lost == 0', 'nonsense'],
      colour: 'blue',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'scenario: unknown field "colour"',
        'load: missing required field "burst"',
        'load.total: must be >= 1',
        'faults[0].at: must be >= 0',
        'runs[1].policy.backoff.capMs: must be >= 0',
        'runs[1].policy: unknown field "retries"',
        'runs[2].worker.concurrency: must be >= 1',
        'runs[3].target: must be one of rpc, events, http (got "carrier-pigeon")',
        'thresholds[1]: no run is named "ghost"',
      ]),
    );
    expect(problems.some((line) => line.startsWith('thresholds[2]: must match pattern'))).toBe(
      true,
    );
  });

  it('reports duplicate run names and YAML syntax errors', () => {
    expect(
      scenarioProblems({
        ...minimal,
        runs: [
          { name: 'a', target: 'rpc' },
          { name: 'a', target: 'rpc' },
        ],
      }),
    ).toContain('runs: the name "a" is used twice');
    const error = (() => {
      try {
        parseScenario('name: x\nload: [unclosed', 'broken.yaml');
      } catch (thrown) {
        return thrown as ScenarioError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error?.message).toMatch(/^broken\.yaml: invalid scenario:\n {2}YAML: /);
  });

  it('gives a topic run a row per subscriber, and checks names and thresholds against the rows', () => {
    const topic = {
      name: 'fan',
      target: 'events',
      subscribers: [{ name: 'billing', maxRetries: 2 }, { name: 'audit' }],
    };
    const scenario = parseScenario(
      JSON.stringify({
        ...minimal,
        runs: [topic],
        thresholds: ['fan-billing.dlq > fan-audit.dlq'],
      }),
    );
    expect(rowNames(scenario.runs[0]!)).toEqual(['fan-billing', 'fan-audit']);
    expect(rowNames({ name: 'a', target: 'rpc' })).toEqual(['a']);
    expect(
      scenarioProblems({
        ...minimal,
        runs: [topic, { name: 'fan-audit', target: 'rpc' }],
        thresholds: ['fan.lost == 0', 'fanout.lost == 0'],
      }),
    ).toEqual([
      'runs: the name "fan-audit" is used twice',
      'thresholds[1]: no run is named "fanout"',
    ]);
    expect(
      scenarioProblems({
        ...minimal,
        runs: [{ ...topic, subscribers: [{ name: 'Bad Name' }, { name: 'x', colour: 1 }] }],
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^runs\[0\]\.subscribers\[0\]\.name: must match pattern/),
        'runs[0].subscribers[1]: unknown field "colour"',
      ]),
    );
  });

  it('takes a run’s own fault timeline, and checks every timeline as the downstream would', () => {
    const scenario = parseScenario(
      JSON.stringify({
        ...minimal,
        faults: [{ at: 0, kind: 'error', durationMs: 100 }],
        runs: [{ name: 'a', target: 'rpc', faults: [] }],
      }),
    );
    expect((scenario.runs[0] as { faults?: unknown }).faults).toEqual([]);
    expect(
      scenarioProblems({
        ...minimal,
        faults: [{ at: 0, kind: 'latency', durationMs: 100 }],
        runs: [
          {
            name: 'a',
            target: 'rpc',
            faults: [{ at: 0, kind: 'error', durationMs: 1, latencyMs: 5 }],
          },
        ],
      }),
    ).toEqual([
      'faults[0]: a latency fault needs latencyMs',
      'runs[0].faults[0]: latencyMs only applies to latency faults, not error',
    ]);
  });

  it('kills a worker of the run only: a subscriber it names must be one of the run’s', () => {
    expect(
      scenarioProblems({
        ...minimal,
        runs: [
          { name: 'a', target: 'events', killWorker: { at: 10, subscriber: 'nobody' } },
          {
            name: 'b',
            target: 'events',
            subscribers: [{ name: 'billing' }],
            killWorker: { at: -1, subscriber: 'billing', signal: 9 },
          },
          { name: 'c', target: 'rpc', killWorker: { at: 10 } },
        ],
      }),
    ).toEqual(
      expect.arrayContaining([
        'runs[0].killWorker.subscriber: "nobody" is not one of the run\'s subscribers',
        expect.stringMatching(/^runs\[1\]\.killWorker\.at: must be >= 0/),
        'runs[1].killWorker: unknown field "signal"',
        'runs[2]: unknown field "killWorker"',
      ]),
    );
  });

  it("reads a threshold on a topic run's name as one on each of its rows; two topic runs pair by subscriber", () => {
    const scenario = parseScenario(
      JSON.stringify({
        ...minimal,
        runs: [
          { name: 'a', target: 'events', subscribers: [{ name: 'billing' }, { name: 'audit' }] },
          { name: 'b', target: 'events', subscribers: [{ name: 'audit' }, { name: 'x' }] },
          { name: 'r', target: 'rpc' },
        ],
      }),
    );
    expect(
      thresholdsPerRow(scenario.runs, [
        'a.lost == 0',
        'a-billing.dlq > 3',
        'a.p99_ms < r.p99_ms',
        'r.ok > 1',
        'a.goodput_rps > b.goodput_rps',
      ]),
    ).toEqual([
      'a-billing.lost == 0',
      'a-audit.lost == 0',
      'a-billing.dlq > 3',
      'a-billing.p99_ms < r.p99_ms',
      'a-audit.p99_ms < r.p99_ms',
      'r.ok > 1',
      'a-audit.goodput_rps > b-audit.goodput_rps',
    ]);
  });

  it("turns every events run into a run on a running stack's topic, and leaves the rest alone", () => {
    const scenario = parseScenario(
      JSON.stringify({
        ...minimal,
        runs: [
          { name: 'e', target: 'events', worker: { concurrency: 4 } },
          { name: 'r', target: 'rpc' },
        ],
      }),
    );
    expect(onTopic(scenario, [])).toBe(scenario);
    const topic = onTopic(scenario, ['billing', 'audit']);
    expect(topic.runs.flatMap(rowNames)).toEqual(['e-billing', 'e-audit', 'r']);
    expect(topic.runs[0]).toMatchObject({ worker: { concurrency: 4 } });
    expect(scenario.runs[0]).not.toHaveProperty('subscribers');
  });
});

describe('a scenario on your own service (service:)', () => {
  const service = {
    url: 'http://127.0.0.1:3000/api',
    request: { method: 'POST', path: '/orders/{{index}}', body: '{"id":"{{id}}"}' },
  };

  it('takes rpc runs through the proxy and http runs straight at it', () => {
    expect(
      scenarioProblems({
        ...minimal,
        service,
        runs: [
          { name: 'direct', target: 'http' },
          { name: 'a', target: 'rpc' },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses an http run without a service, an events run with one, and a bad request, naming each', () => {
    expect(scenarioProblems({ ...minimal, runs: [{ name: 'direct', target: 'http' }] })).toEqual([
      "runs[0].target: an http run sends the load straight to the scenario's service: add service: {url, request}",
    ]);
    expect(
      scenarioProblems({ ...minimal, service, runs: [{ name: 'e', target: 'events' }] }),
    ).toEqual([
      'runs[0].target: a scenario with a service runs rpc runs only (its load goes through the gateway to your service), not events',
    ]);
    const problems = scenarioProblems({
      ...minimal,
      service: { url: 'ftp://x', request: { method: 'FETCH', path: 'orders', okStatuses: [99] } },
    });
    expect(problems.some((line) => line.startsWith('service.url:'))).toBe(true);
    expect(problems.some((line) => line.startsWith('service.request.method:'))).toBe(true);
    expect(problems.some((line) => line.startsWith('service.request.path:'))).toBe(true);
    expect(problems.some((line) => line.startsWith('service.request.okStatuses[0]:'))).toBe(true);
  });

  it('refuses a request header that frames the message when the scenario is read', () => {
    expect(
      scenarioProblems({
        ...minimal,
        service: { ...service, request: { method: 'POST', headers: { 'Content-Length': '3' } } },
      }),
    ).toContain(
      'service.request.headers.Content-Length: set by the generator from the body it sends, not by the scenario',
    );
  });
});
