import { defineCommand } from './command.ts';

// Literal specifiers, so the build rewrites them to .js.
const services = {
  downstream: () => import('../../services/downstream/main.ts'),
  gateway: () => import('../../services/gateway/main.ts'),
  producer: () => import('../../services/producer/main.ts'),
  worker: () => import('../../services/worker/main.ts'),
} as const;

/** A service keeps the process; this code means "do not set an exit code". */
export const keepRunning = -1;

export const serveCommand = defineCommand({
  name: 'serve',
  usage: [`serve ${Object.keys(services).join('|')}`],
  summary: 'one service, configured by its environment (docs/reference.md › Variables)',
  description:
    "Starts one of the four services in this process, configured by its environment, until SIGTERM or SIGINT: what the image's containers and Kubernetes pods run.",
  flags: {},
  args: { min: 1, max: 1 },
  run: async ({ args, io }) => {
    const name = args[0]!;
    if (!(name in services)) {
      io.err(`cascade-lab serve: name a service: ${Object.keys(services).join(', ')}\n`);
      return 2;
    }
    await services[name as keyof typeof services]();
    return keepRunning;
  },
});
