/** `npm run tamper -- [--seed N] [--cases N | --every-byte [--workers N]] [--event-cases N] [--events N] [--json]` */
import { main } from '../common/cli.ts';
import { runTamper } from './run.ts';

await main((args, log) => runTamper(args, log));
