// The APPSYNC_JS runtime accepts a subset of JavaScript (no try/catch, no classes, no async, no
// recursion, only some built-ins...); AWS's plugin encodes those rules, so code AppSync would
// reject at deploy time fails here first. `recommended` includes the rules that need type
// information: this folder's tsconfig.json names the resolver files.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import appsync from '@aws-appsync/eslint-plugin';

const here = dirname(fileURLToPath(import.meta.url));

export default [
  {
    files: ['resolvers/*.js'],
    languageOptions: { parserOptions: { project: `${here}/tsconfig.json`, tsconfigRootDir: here } },
  },
  { files: ['resolvers/*.js'], ...appsync.configs.recommended },
];
