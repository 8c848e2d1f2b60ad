// The layering rule in eslint.config.js: imports only go down (lib ← activities ← workflows, intake
// ← workers, scripts). These cases lint code as if it were in each folder, so a rule that stopped
// refusing a climb fails here, not in a review.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, '../..') });

/** The messages of the layering rule for `code` placed at `file`. */
async function layerProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = [imported];\n`, { filePath: file });
  const layerRules = ['no-restricted-imports', 'no-restricted-syntax'];
  return result!.messages.filter((message) => layerRules.includes(message.ruleId ?? '')).map((message) => message.message);
}

describe('imports only go down', () => {
  it.each([
    ['lib/alert-extra.ts', "import { imported } from './alert';"],
    ['activities/rescan/extra.ts', "import { imported } from '../../lib/delivery';"],
    ['activities/rescan/extra.ts', "import { imported } from '../context/types';"],
    ['workflows/extra.ts', "import { imported } from '../lib/investigation';"],
    ['workflows/extra.ts', "import type { imported } from '../activities';"],
    ['intake/routes/extra.ts', "import type { imported } from '../../activities/archive/types';"],
    ['intake/extra.ts', "import { imported } from '../lib/delivery';"],
    ['workers/extra.ts', "import { imported } from '../intake/deliver';"],
    ['scripts/extra.ts', "import { imported } from '../workers/main-worker';"],
    ['activities/context/extra.ts', "const imported = import('./aws/inventory');"],
    ['lib/render/extra.ts', "import { imported } from '../markdown';"],
  ])('%s may: %s', async (file, code) => {
    expect(await layerProblems(file, code)).toEqual([]);
  });

  it.each([
    ['lib/extra.ts', "import { imported } from '../activities/archive';", 'lib/ may not import'],
    ['lib/render/extra.ts', "import type { imported } from '../../activities/tracker/types';", 'lib/ may not import'],
    ['activities/rescan/extra.ts', "import type { imported } from '../../intake/deliver';", 'activities/ may not import'],
    ['activities/screenshot/extra.ts', "import { imported } from '../../scripts/prerequisites';", 'activities/ may not import'],
    ['activities/extra.ts', "import { imported } from '../workflows/investigate-alert';", 'activities/ may not import'],
    ['workflows/extra.ts', "import { imported } from '../activities';", 'as types only'],
    ['workflows/extra.ts', "import { imported } from '../intake/deliver';", 'workflows/ may not import'],
    ['workflows/extra.ts', "import { imported } from 'node:fs';", 'No Node built-ins'],
    ['intake/extra.ts', "import { imported } from '../activities/tracker/local';", 'as types only'],
    ['intake/routes/extra.ts', "import { imported } from '../../workflows/investigate-alert';", 'intake/ may not import'],
    ['intake/extra.ts', "import { imported } from '../workers/delivery';", 'intake/ may not import'],
    // Ways around a naive rule: a leading `./`, a detour through another folder, `import()`, re-exports, other extensions.
    ['activities/rescan/extra.ts', "import { imported } from './../../intake/deliver';", 'activities/ may not import'],
    ['activities/extra.ts', "import { imported } from '../lib/../intake/deliver';", 'activities/ may not import'],
    ['lib/extra.ts', "const imported = import('../activities/archive');", 'lib/ may not load'],
    ['workflows/extra.ts', "const imported = import('../activities');", 'workflows/ may not load'],
    ['activities/extra.ts', "export { deliver as imported } from '../intake/deliver';", 'activities/ may not import'],
    ['activities/extra.mts', "import { imported } from '../intake/deliver';", 'activities/ may not import'],
    ['workflows/extra.ts', "import { imported } from 'worker_threads';", 'No Node built-ins'],
  ])('%s may not: %s', async (file, code, reason) => {
    const problems = await layerProblems(file, code);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(reason);
  });
});
