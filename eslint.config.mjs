// ESLint: the rules every file keeps. Formatting is Prettier's (.prettierrc.json); the
// import layers and cycles are dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const typescript = ['lib/**/*.ts', 'checks/**/*.ts', 'test/**/*.ts', 'test/**/*.mts', '*.ts'];
// Node scripts without an extension (ES modules by the root package.json).
const esmScripts = ['**/*.mjs', 'bench/fake-ipvsadm-timed', 'test/support/fake-ipvsadm'];

export default defineConfig([
  globalIgnores(['dist/', '.cache/', 'coverage/', 'fixtures/', '**/fixtures/', '.ci/vitest-report.json']),
  {
    // A suppression comment hides a finding where no reviewer looks for it: an exception
    // belongs in this file, with its reason, and the code at the root otherwise.
    linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: 'error' },
  },
  { files: [...typescript, ...esmScripts, 'bin/ldirectord'], ...js.configs.recommended },
  {
    files: typescript,
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // A promise nobody awaits loses its rejection: the daemon must not die of one.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A variable that closures read before its one assignment (a watcher set up after the
      // stop path that closes it) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: esmScripts,
    languageOptions: { sourceType: 'module', globals: globals.node },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['bin/ldirectord'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
]);
