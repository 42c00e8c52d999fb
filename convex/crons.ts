import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";
import { WATCHDOG_SECONDS } from "./model/outbox";

const crons = cronJobs();
// A reporter run that dies (action timeout, deployment restart) stops renewing its lease; this
// restarts reporting within the lease plus this interval (model/outbox.ts).
crons.interval("outbox watchdog", { seconds: WATCHDOG_SECONDS }, internal.outbox.watchdog, {});
// Retention: reported events after a week, seen notification ids after a month.
crons.interval("prune reported events", { hours: 1 }, internal.outbox.pruneEvents, {});
crons.interval("prune seen notifications", { hours: 1 }, internal.inbound.pruneSeen, {});
export default crons;
