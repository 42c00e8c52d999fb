// The component's periodic work, run by this app's crons (crons.ts): the reporter's watchdog and
// the retention of reported events and seen notification ids.
import { v } from "convex/values";
import { components } from "./_generated/api";
import { internalMutation } from "./_generated/server";

export const watchdog = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => await ctx.runMutation(components.federation.outbox.watchdog, {}),
});

export const prune = internalMutation({
  args: {},
  returns: v.object({ events: v.number(), seen: v.number() }),
  handler: async (ctx) => ({
    events: await ctx.runMutation(components.federation.outbox.pruneEvents, {}),
    seen: await ctx.runMutation(components.federation.inbound.pruneSeen, {}),
  }),
});
