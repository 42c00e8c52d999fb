// The component's definition. It owns its tables (schema.ts) and functions; the app installs it
// with `app.use(federation, { env: ... })` and hands it the environment variables below, which
// a component cannot read from the app by itself.
import { defineComponent } from "convex/server";
import { v } from "convex/values";

export default defineComponent("federation", {
  env: {
    /** The gateway's base URL; events go to GATEWAY_URL/backend/v1/events. */
    GATEWAY_URL: v.string(),
    /** The instance's backend_token, shared with the gateway. */
    BACKEND_TOKEN: v.string(),
    /** The instance's domain: the authority of its own URNs. */
    INSTANCE_DOMAIN: v.string(),
    /** How long a resolved remote block is served from the cache (default 3600). */
    REMOTE_CACHE_TTL_SECONDS: v.optional(v.string()),
  },
});
