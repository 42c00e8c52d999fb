// Builds and starts the convex-test HTTP bridge (server.ts): an app with the federation
// component installed.
//   node tests/convex/bridge/run.mjs          (port from BRIDGE_PORT, 0 = any;
//                                              BRIDGE_APP: the app's Convex directory, default convex)
// Environment read by the Convex functions, as on a deployment: BACKEND_TOKEN, GATEWAY_URL,
// INSTANCE_DOMAIN, INSTANCE_NAME, CONVEX_SITE_URL.
//
// convex-test normally gets its modules from Vite's import.meta.glob inside vitest; here
// esbuild bundles an entry that imports every file under convex/ and hands convex-test the
// same path -> module map, so a new Convex module is served without touching this file.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const convexDir = join(root, process.env.BRIDGE_APP ?? "convex");
const componentDir = join(root, "packages", "convex-federation", "src", "component");
const outfile = join(root, "node_modules", ".cache", "convex-bridge", `bridge-${process.pid}.mjs`);

function moduleFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return moduleFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

// convex.config.ts runs only in Convex's own bundler (app.use); the modules never import it.
const isModule = (file) => !file.endsWith("convex.config.ts");
const appFiles = moduleFiles(convexDir).filter(isModule);
const componentFiles = moduleFiles(componentDir).filter(isModule);
const imports = [...appFiles, ...componentFiles].map((file, i) => `import * as m${i} from ${JSON.stringify(file)};`);
const entries = (files, dir, prefix, offset) =>
  files.map((file, i) => {
    const key = prefix + relative(dir, file).split("\\").join("/");
    return `  ${JSON.stringify(key)}: async () => m${i + offset},`;
  });
const entry = [
  ...imports,
  `import { serveBridge } from ${JSON.stringify(join(here, "server.ts"))};`,
  `import appSchema from ${JSON.stringify(join(convexDir, "schema.ts"))};`,
  `import componentSchema from ${JSON.stringify(join(componentDir, "schema.ts"))};`,
  `const modules = {\n${entries(appFiles, convexDir, "./convex/", 0).join("\n")}\n};`,
  `const componentModules = {\n${entries(componentFiles, componentDir, "./component/", appFiles.length).join("\n")}\n};`,
  `await serveBridge({ schema: appSchema, modules }, { schema: componentSchema, modules: componentModules }, Number(process.env.BRIDGE_PORT ?? "0"));`,
].join("\n");

// npm packages stay external (Node loads them), except the component's package: a workspace
// of TypeScript sources that must be bundled like the app's own files.
const externalPackages = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@kbfed/") ? undefined : { path: args.path, external: true },
    );
  },
};

await build({
  stdin: { contents: entry, resolveDir: root, loader: "ts", sourcefile: "bridge-entry.ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  plugins: [externalPackages],
  outfile,
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
rmSync(outfile); // loaded: one bundle per process, so two bridges never share a file
