import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.interval("federation watchdog", { seconds: 20 }, internal.federation.watchdog, {});
crons.interval("federation retention", { hours: 1 }, internal.federation.prune, {});
export default crons;
