import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

/** How often the watchdog looks; a dead reporter run is replaced within its 30 s lease plus this. */
export const WATCHDOG_SECONDS = 20;

const crons = cronJobs();
// A reporter run that dies (action timeout, deployment restart) stops renewing its lease; this
// restarts reporting within the lease plus this interval.
crons.interval("federation watchdog", { seconds: WATCHDOG_SECONDS }, internal.federation.watchdog, {});
// Retention: reported events after a week, seen notification ids after a month.
crons.interval("federation retention", { hours: 1 }, internal.federation.prune, {});
export default crons;
