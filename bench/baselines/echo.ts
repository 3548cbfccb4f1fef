/**
 * The cheapest HTTP server: 200 `{}` to anything, at once or after `echo.ts <delayMs>` (a
 * service with work to do). The load generators are measured against it; on a free port.
 */
import { createServer, type ServerResponse } from 'node:http';

const delayMs = Number(process.argv[2] ?? 0);
const answer = (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
  response.end('{}');
};
const server = createServer((request, response) => {
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
