// Builds and starts the convex-test HTTP bridge (server.ts).
//   node tests/convex/bridge/run.mjs          (port from BRIDGE_PORT, 0 = any)
// Environment read by the Convex functions, as on a deployment: BACKEND_TOKEN, GATEWAY_URL,
// INSTANCE_DOMAIN, INSTANCE_NAME, CONVEX_SITE_URL.
//
// convex-test normally gets its modules from Vite's import.meta.glob inside vitest; here
// esbuild bundles an entry that imports every file under convex/ and hands convex-test the
// same path -> module map, so a new Convex module is served without touching this file.
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const convexDir = join(root, "convex");
const outfile = join(root, "node_modules", ".cache", "convex-bridge", "bridge.mjs");

function moduleFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return moduleFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = moduleFiles(convexDir);
const imports = files.map((file, i) => `import * as m${i} from ${JSON.stringify(file)};`);
const entries = files.map((file, i) => {
  const key = "./convex/" + relative(convexDir, file).split("\\").join("/");
  return `  ${JSON.stringify(key)}: async () => m${i},`;
});
const entry = [
  ...imports,
  `import { serveBridge } from ${JSON.stringify(join(here, "server.ts"))};`,
  `const modules = {\n${entries.join("\n")}\n};`,
  `await serveBridge(modules, Number(process.env.BRIDGE_PORT ?? "0"));`,
].join("\n");

await build({
  stdin: { contents: entry, resolveDir: root, loader: "ts", sourcefile: "bridge-entry.ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  outfile,
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
