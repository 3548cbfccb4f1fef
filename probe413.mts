import { startDownstream } from './test/support/rpc-path.ts';
const d = await startDownstream();
console.log(d.url);
await new Promise((r) => setTimeout(r, 60000));
await d.app.close();
