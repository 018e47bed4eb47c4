// Lint: typescript-eslint's type-aware rules for src/ and test/ (floating and
// misused promises are how unhandled rejections reach users), plain
// recommended rules for the JavaScript scripts, benches and examples.
// Formatting is prettier's job (npm run format), not eslint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'build/**', 'build-*/**', 'prebuilds/**', 'coverage/**', 'node_modules/**', 'fuzz/corpus/**'],
  },
  {
    // A disable comment that no longer suppresses anything is an error: each one must mean something.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // tsconfig.test.json covers src/ and test/ (tsconfig.json, the build's, only src/).
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // `_`-prefixed names are deliberately unused (callback signatures, destructuring to omit a key).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `void promise` marks a promise whose failure is handled elsewhere; anything else must be awaited or caught.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // Event listeners and timers may be async when they catch their own errors.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // Passing on a reason we were given (an AbortSignal's, a caught one) keeps it intact.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `async` without `await` is how the drop-in API returns promises (and turns throws into rejections).
      '@typescript-eslint/require-await': 'off',
      // String(unknown) is deliberate where it mirrors the official SDK's own coercions (exposure keys, log text).
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['*.mts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests drive hostile inputs through deliberately loose types and the official SDK's untyped internals.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
