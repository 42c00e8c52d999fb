// Regenerates the committed `_generated/` code of the component (packages/convex-federation)
// and of the example apps without a deployment: `convex codegen --system-udfs`, the generator's
// offline path. That path does not know components, so the `components` export that
// `npx convex dev` writes into an app's _generated/api (typed by the component's API) is added
// here, in the same form.
//   node scripts/convex-codegen.mjs        (npm run codegen; codegen:check diffs the result)
import { execFileSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const convex = join(root, "node_modules", "convex", "bin", "main.js");
// With this script's own Node (22, from the npm "node" package), not whatever `node` is first.
const codegen = (cwd) =>
  execFileSync(process.execPath, [convex, "codegen", "--system-udfs", "--typecheck", "disable"], { cwd, stdio: "inherit" });

codegen(join(root, "packages", "convex-federation")); // its convex.json points at src/component
codegen(root); // the example app in convex/
codegen(join(root, "examples", "notes-app")); // a second app, with its own existing schema

for (const dir of [join(root, "convex"), join(root, "examples", "notes-app", "convex")]) {
  appendFileSync(
    join(dir, "_generated", "api.js"),
    '\nimport { componentsGeneric } from "convex/server";\n\nexport const components = componentsGeneric();\n',
  );
  appendFileSync(
    join(dir, "_generated", "api.d.ts"),
    '\nexport declare const components: {\n  federation: import("@kbfed/convex-federation").ComponentApi;\n};\n',
  );
}
