/// <reference types="vite/client" />
// For the app's own tests: registers this component with a convex-test instance, the way
// `app.use(federation)` installs it on a deployment.
import type { TestConvex } from "convex-test";
import type { GenericSchema, SchemaDefinition } from "convex/server";
import schema from "./component/schema";

export const modules = import.meta.glob("./component/**/*.ts");

export function register<Schema extends SchemaDefinition<GenericSchema, boolean>>(
  t: TestConvex<Schema>,
  name = "federation",
): void {
  t.registerComponent(name, schema, modules);
}
export { schema };
