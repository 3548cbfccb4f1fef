import type { AnyCommand } from './command.ts';
import { dlqCommand } from './dlq.ts';
import { experimentCommand } from './experiment.ts';
import { loadCommand } from './load.ts';
import { mergeCommand } from './merge.ts';
import { serveCommand } from './serve.ts';
import { sweepCommand } from './sweep.ts';
import { tuneCommand } from './tune.ts';
import { upCommand } from './up.ts';

/** Every command, in the order help lists them (the README and docs/reference.md too). */
export const commands: AnyCommand[] = [
  experimentCommand,
  sweepCommand,
  tuneCommand,
  upCommand,
  loadCommand,
  mergeCommand,
  serveCommand,
  dlqCommand,
];
