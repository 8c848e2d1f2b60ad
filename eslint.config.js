import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers, lowest first: each may import the layers below it and nothing above. Workflows and
// intake see activities only as types (workflow code is bundled into Temporal's sandbox; intake runs
// without the activities' clients). Workers and scripts put everything together and may import anything.
const layers = [
  { folder: 'lib', forbidden: ['activities', 'workflows', 'intake', 'workers', 'scripts'] },
  { folder: 'activities', forbidden: ['workflows', 'intake', 'workers', 'scripts'] },
  { folder: 'workflows', forbidden: ['intake', 'workers', 'scripts'], typesOnly: ['activities'] },
  { folder: 'intake', forbidden: ['workflows', 'workers', 'scripts'], typesOnly: ['activities'] },
];

// A relative path with a segment named after one of `folders` (`../intake/x`, `./../../intake`,
// `../lib/../intake`): folders inside a layer never reuse a layer's name, so this is a climb.
const relativeInto = (folders) => `^\\.{1,2}/(.*/)?(${folders.join('|')})(/|$)`;

const layerRules = layers.map(({ folder, forbidden, typesOnly = [] }) => ({
  files: [`${folder}/**/*.{ts,mts,cts,tsx,js,mjs,cjs}`],
  rules: {
    // `import()` climbs too; only a type-level import may name activities from workflows or intake.
    'no-restricted-syntax': [
      'error',
      {
        selector: `ImportExpression[source.value=/${relativeInto([...forbidden, ...typesOnly]).replaceAll('/', '\\/')}/]`,
        message: `${folder}/ may not load ${[...forbidden, ...typesOnly].join(', ')}: imports only go down (see docs/architecture.md).`,
      },
    ],
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: relativeInto(forbidden),
            message: `${folder}/ may not import from ${forbidden.join(', ')}: imports only go down (see docs/architecture.md). Move the shared contract into lib/.`,
          },
          ...(typesOnly.length > 0
            ? [{ regex: relativeInto(typesOnly), allowTypeImports: true, message: `${folder}/ imports ${typesOnly.join(', ')} as types only (\`import type\`).` }]
            : []),
          // Workflow code is replayed deterministically in a sandbox: no I/O, no Node built-ins.
          ...(folder === 'workflows'
            ? [{ group: ['node:*', ...builtinModules], message: 'No Node built-ins in workflow code.' }]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', '.build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
