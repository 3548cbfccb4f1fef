import { describe, expect, it } from 'vitest';
import { formatResult } from '../../load/report/load-result.ts';
import { type LoadCommandOptions, runLoadCommand } from '../../load/cli/load.ts';
import { parseScheduleArg } from '../../load/schedule/schedule-text.ts';

describe('parseScheduleArg', () => {
  it('parses kind:key=value lists into schedule specs', () => {
    expect(parseScheduleArg('bursts:total=2000,burst=350,gapMs=80')).toEqual({
      spec: { kind: 'bursts', total: 2000, burst: 350, gapMs: 80 },
      problems: [],
    });
    expect(parseScheduleArg('constant:ratePerSecond=50,durationMs=1000').spec).toEqual({
      kind: 'constant',
      ratePerSecond: 50,
      durationMs: 1000,
    });
  });

  it('takes Poisson arrivals for rate kinds and closed loops, and refuses arrivals elsewhere', () => {
    expect(
      parseScheduleArg('constant:ratePerSecond=10,durationMs=1000,arrivals=poisson,seed=3').spec,
    ).toEqual({
      kind: 'constant',
      ratePerSecond: 10,
      durationMs: 1000,
      arrivals: 'poisson',
      seed: 3,
    });
    expect(parseScheduleArg('closed:users=3,thinkTimeMs=10,durationMs=500').spec).toEqual({
      kind: 'closed',
      users: 3,
      thinkTimeMs: 10,
      durationMs: 500,
    });
    expect(parseScheduleArg('bursts:total=3,burst=1,gapMs=1,arrivals=poisson').problems).toEqual([
      'schedule: unknown field "arrivals"',
    ]);
  });

  it('names every problem against the variant the kind names', () => {
    expect(parseScheduleArg('bursts:total=0').problems).toEqual([
      'schedule: missing required field "burst"',
      'schedule: missing required field "gapMs"',
      'schedule.total: must be >= 1',
    ]);
    expect(parseScheduleArg('ramp:fromRps=1,toRps=2,durationMs=5,speed=3').problems).toEqual([
      'schedule: unknown field "speed"',
    ]);
    expect(parseScheduleArg('wave:x=1').problems).toEqual([
      'schedule.kind: must be one of bursts, constant, ramp, stages, spike, closed (got "wave")',
    ]);
    expect(parseScheduleArg('spike:ratePerSecond=80,durationMs=1000').problems).toEqual([
      'schedule: spike needs a scenario file; use bursts, constant or ramp here',
    ]);
    expect(parseScheduleArg('constant:rate').problems).toEqual([
      'schedule: "rate" is not key=value',
    ]);
  });
});

describe('formatResult', () => {
  it('prints the accounting line, latencies and outcomes by count', () => {
    const text = formatResult({
      target: 'rpc',
      durationMs: 1500,
      sent: 10,
      ok: 7,
      failed: 2,
      dropped: 1,
      outcomes: { ok: 7, '503 circuit_open': 2, 'dropped: generator cap': 1 },
      latency: { count: 9, p50Ms: 10, p95Ms: 20, p99Ms: 30, maxMs: 31, meanMs: 12 },
      serviceLatency: { count: 9, p50Ms: 9, p95Ms: 19, p99Ms: 29, maxMs: 30, meanMs: 11 },
      lateness: { count: 10, p50Ms: 0.1, p95Ms: 0.2, p99Ms: 0.3, maxMs: 0.4, meanMs: 0.1 },
      pacing: { count: 8, p50Ms: 0.1, p95Ms: 0.2, p99Ms: 0.2, maxMs: 0.2, meanMs: 0.1 },
      bursts: {
        count: 2,
        size: 5,
        spreadP50Ms: 0.8,
        spreadMaxMs: 1.2,
        startLatenessP99Ms: 0.3,
        spreadLimitMs: 2,
      },
      series: [],
      warnings: ['something to know'],
    });
    expect(text).toContain('target rpc: 10 sent = 7 ok + 2 failed + 1 dropped in 1.50 s');
    expect(text).toMatch(
      /\n\s+7 {2}ok\n\s+2 {2}503 circuit_open\n\s+1 {2}dropped: generator cap\n/,
    );
    expect(text).toContain(
      '  of which its own     p50 0.1 ms  p99 0.2 ms (scheduled → handed to the pool; the rest waited for a connection)',
    );
    expect(text).toContain(
      'bursts                 2 of 5: left in p50 0.8 ms, max 1.2 ms (first → last hand-over); first p99 0.3 ms late',
    );
    expect(text).toContain('warning: something to know');
  });
});

describe('cascade-lab load as one generator of several', () => {
  const base = {
    target: 'rpc',
    url: 'http://127.0.0.1:1',
    schedule: 'constant:ratePerSecond=10,durationMs=1000',
    maxOutstanding: 100,
  };
  const problemsOf = async (options: Partial<LoadCommandOptions>) => {
    let text = '';
    const code = await runLoadCommand(
      { ...base, ...options },
      { out: () => undefined, err: (line) => (text += line), interactive: false },
    );
    return { code, text };
  };

  it('names each bad distributed flag, before sending anything', async () => {
    const { code, text } = await problemsOf({
      segment: '3/3',
      startAt: String(Date.now() - 5000),
      resultsRedis: 'http://nope',
      name: 'Big Name',
    });
    expect(code).toBe(2);
    expect(text).toContain('--segment: must be i/n with 0 ≤ i < n ≤ 256');
    expect(text).toMatch(/--start-at: \d+ is \d+\.\d s in the past/);
    expect(text).toContain('--results-redis: must be a URL such as redis://redis:6379');
    expect(text).toContain('--run-id: --results-redis needs the run id');
    expect(text).toContain('--name: lower-case letters');
  });

  it('refuses a header that frames the message when it reads the flags, before sending anything', async () => {
    const { code, text } = await problemsOf({
      target: 'http',
      url: 'http://127.0.0.1:1/orders',
      method: 'POST',
      headers: ['Transfer-Encoding: chunked', 'accept: */*'],
      body: '{}',
    });
    expect(code).toBe(2);
    expect(text).toContain(
      '--header Transfer-Encoding: set by the generator from the body it sends, not by the scenario',
    );
    expect(text).not.toContain('accept');
  });

  it('refuses a closed loop split across generators', async () => {
    const { code, text } = await problemsOf({
      schedule: 'closed:users=2,thinkTimeMs=0,durationMs=100',
      segment: '0/2',
      out: '/tmp/part.json',
      startAt: String(Date.now() + 60_000),
    });
    expect(code).toBe(2);
    expect(text).toContain('--segment: a closed loop runs in one generator');
  });

  it('needs somewhere to write its result', async () => {
    const { code, text } = await problemsOf({ segment: '0/2' });
    expect(code).toBe(2);
    expect(text).toContain('--out FILE or --results-redis URL');
  });
});
