/** `npm run load -- [--seed N] [--seconds N] [--clients N] [--max-rss-mb N] [--json]` */
import { main } from '../common/cli.ts';
import { runLoad } from './run.ts';

await main((args, log) => runLoad(args, log));
