/** `npm run chaos -- [--seed N] [--rounds N] [--clients N] [--json]` */
import { main } from '../common/cli.ts';
import { runChaos } from './run.ts';

await main((args, log) => runChaos(args, log));
