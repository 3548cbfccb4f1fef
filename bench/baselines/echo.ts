/**
 * The cheapest HTTP server: 200 `{}` to anything, at once or after `echo.ts <delayMs>` (a
 * service with work to do). The load generators are measured against it; on a free port.
 * `GET /arrivals` says how the requests since the last one arrived (`arrivalPattern`) and
 * starts counting again: whether a tool paced them evenly or sent them in bursts.
 */
import { createServer, type ServerResponse } from 'node:http';

const delayMs = Number(process.argv[2] ?? 0);
const windowMs = 10;
/** Requests per 10 ms window of the monotonic clock; one Map update per request, whoever sends. */
let perWindow = new Map<number, number>();

/** Of the requests counted: the most in one 10 ms window, and the share in windows over `crowded`. */
function arrivalPattern(crowded: number) {
  let total = 0;
  let inCrowded = 0;
  let largest = 0;
  for (const count of perWindow.values()) {
    total += count;
    if (count > crowded) inCrowded += count;
    largest = Math.max(largest, count);
  }
  return { total, largestPer10Ms: largest, shareInCrowdedWindows: total ? inCrowded / total : 0 };
}

/** `{}` (what every request gets, its length known), or the arrival counts' JSON. */
const answer = (response: ServerResponse, body = '{}') => {
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body === '{}' ? '2' : String(Buffer.byteLength(body)),
  });
  response.end(body);
};
const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url?.startsWith('/arrivals')) {
    // ?crowded=N: a window holding more than N requests counts as a burst's.
    const crowded = Number(new URL(request.url, 'http://echo').searchParams.get('crowded') ?? 100);
    const pattern = arrivalPattern(crowded);
    perWindow = new Map();
    answer(response, JSON.stringify(pattern));
    return;
  }
  const window = Math.floor(performance.now() / windowMs);
  perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
  request.resume();
  request.on('end', () => {
    if (delayMs > 0) setTimeout(answer, delayMs, response);
    else answer(response);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`Server listening at http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => server.close());
