// The example app installs the federation component as any Convex app would. The component
// cannot read the app's environment variables: the app declares them and hands them over.
import { defineApp } from "convex/server";
import { v } from "convex/values";
import federation from "@kbfed/convex-federation/convex.config";

const app = defineApp({
  env: {
    BACKEND_TOKEN: v.string(),
    GATEWAY_URL: v.string(),
    INSTANCE_DOMAIN: v.string(),
    INSTANCE_NAME: v.optional(v.string()),
    REMOTE_CACHE_TTL_SECONDS: v.optional(v.string()),
  },
});
app.use(federation, {
  env: {
    GATEWAY_URL: app.env.GATEWAY_URL,
    BACKEND_TOKEN: app.env.BACKEND_TOKEN,
    INSTANCE_DOMAIN: app.env.INSTANCE_DOMAIN,
    REMOTE_CACHE_TTL_SECONDS: app.env.REMOTE_CACHE_TTL_SECONDS,
  },
});
export default app;
