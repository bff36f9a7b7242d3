/** `npm run fuzz -- [--seed N] [--cases N] [--abi|--sdk|--http] [--json]` */
import { main } from '../common/cli.ts';
import { runFuzz } from './run.ts';

await main((args, log) => runFuzz(args, log));
