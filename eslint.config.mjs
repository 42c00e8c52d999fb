// ESLint for the Convex code (the example app in convex/ and the component's package):
// typescript-eslint's type-aware parser (the Convex rules need type information) and
// @convex-dev/eslint-plugin's recommended rules, plus the rules it leaves off that this project
// wants on: no .collect() in queries, access control on public functions, no .filter() in queries.
import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

const [recommended] = convexPlugin.configs.recommended;
const convexFiles = ["convex/**/*.ts", "examples/*/convex/**/*.ts", "packages/convex-federation/src/**/*.ts"];

export default tseslint.config(
  { ignores: ["**/_generated/**", "node_modules/**", ".venv*/**"] },
  {
    files: convexFiles,
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { ...recommended.plugins, "@typescript-eslint": tseslint.plugin },
    rules: {
      ...recommended.rules,
      "@convex-dev/no-collect-in-query": "error",
      "@convex-dev/require-access-control": "error",
      "@convex-dev/no-filter-in-query": "error",
      "@typescript-eslint/no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    // A component's exported functions are its API to the app that installs it: no client can
    // call them (a client names only the app's functions), so they need no access check.
    files: ["packages/convex-federation/src/component/**/*.ts"],
    rules: { "@convex-dev/require-access-control": "off" },
  },
  {
    // The client runs inside the app's functions, where the app's environment is process.env;
    // the test helper runs under vitest.
    files: ["packages/convex-federation/src/client/**/*.ts", "packages/convex-federation/src/test.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
);
