// Lint: the one architectural rule that must never break is that src/core stays free of 'vscode'
// (it runs in the CLI and in plain Node tests). typescript-eslint parses TS; style is tsc's job.
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['out/**', 'node_modules/**', '.tools/**', 'dist/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core must not import vscode: it runs in the CLI and plain Node tests. Put VS Code glue in src/extension.' }] }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: 'src/core must not require vscode.' }],
    },
  },
];
