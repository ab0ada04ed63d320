import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'resources/models/**', '.cache/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only app/hosts/electron/ and app/preload/ may import electron.' }] },
      ],
    },
  },
  {
    // The engine is plain Node that its hosts use; it never reaches back into a host.
    files: ['app/engine/**', 'app/shared/**', 'app/native-workers/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only app/hosts/electron/ and app/preload/ may import electron.' }],
          patterns: [{ group: ['**/hosts/**'], message: 'The engine, contracts and workers never import a host (app/hosts).' }],
        },
      ],
    },
  },
  {
    files: ['app/hosts/electron/**', 'app/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['app/renderer/**/*.tsx', 'app/renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
);
