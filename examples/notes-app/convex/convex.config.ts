// The few lines that install federation into this existing app.
import { defineApp } from "convex/server";
import { v } from "convex/values";
import federation from "@kbfed/convex-federation/convex.config";

const app = defineApp({
  env: { BACKEND_TOKEN: v.string(), GATEWAY_URL: v.string(), INSTANCE_DOMAIN: v.string() },
});
app.use(federation, {
  env: { GATEWAY_URL: app.env.GATEWAY_URL, BACKEND_TOKEN: app.env.BACKEND_TOKEN, INSTANCE_DOMAIN: app.env.INSTANCE_DOMAIN },
});
export default app;
