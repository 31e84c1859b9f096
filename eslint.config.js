// Type-aware lint. The rules that matter most for a sync daemon: no floating promises (an
// unawaited write is a silently lost write), no import cycles, and bridge/ never importing
// adapters/ (the core must not know any concrete registry).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  // The console's browser modules are the one place plain JavaScript is source (no build step).
  { ignores: ['dist/', '.cache/', 'node_modules/', 'coverage/', 'proto/gen/', '**/*.js', '!bridge/resolver/console/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Tests may drive the engine with the in-memory adapter; production code may not.
    files: ['bridge/**/*.ts'],
    ignores: ['bridge/**/*.test.ts', 'bridge/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/adapters/**', '**/adapters'], message: 'bridge/ must not import adapters/ (DESIGN §3).' }] },
      ],
    },
  },
  {
    // Browser code: no type information (no tsconfig covers it), and the browser's globals.
    files: ['bridge/resolver/console/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'EventSource', 'MessageEvent', 'HTMLElement', 'Node', 'setTimeout', 'clearTimeout', 'setInterval', 'console']
          .map((name) => [name, 'readonly']),
      ),
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-undef': 'error' },
  },
  {
    // Nothing imports the vitest config, so it cannot be in a cycle; and the rule's resolver
    // fails on the imports inside vitest/node's own bundle, which the sequencer needs.
    files: ['vitest.config.ts'],
    rules: { 'import-x/no-cycle': 'off' },
  },
  {
    files: ['**/*.test.ts', 'integration/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
