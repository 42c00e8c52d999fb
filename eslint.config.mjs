// ESLint for the Convex code: typescript-eslint's type-aware parser (the Convex rules need type
// information) and @convex-dev/eslint-plugin's recommended rules, plus the rules it leaves off
// that this project wants on: no .collect() in queries, access control on public functions.
import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/_generated/**", "node_modules/**", ".venv*/**"] },
  {
    files: ["convex/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: "./convex/tsconfig.json", tsconfigRootDir: import.meta.dirname },
    },
  },
  ...convexPlugin.configs.recommended,
  {
    files: ["convex/**/*.ts"],
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@convex-dev/no-collect-in-query": "error",
      "@convex-dev/require-access-control": "error",
      "@convex-dev/no-filter-in-query": "error",
      "@typescript-eslint/no-unused-vars": "error",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
);
