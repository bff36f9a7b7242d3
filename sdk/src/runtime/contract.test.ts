import { join } from 'node:path';
import { EXAMPLES, simpleAtlas } from '../../test/helpers.ts';
import { runtimeContract } from '../../test/contract.ts';
import { loadAtlasDir } from '../atlas/dir.ts';
import { createRuntime } from './runtime.ts';

runtimeContract('embedded', () => createRuntime(), {
  simple: await simpleAtlas(),
  support: await loadAtlasDir(join(EXAMPLES, 'atlases/support')),
});
