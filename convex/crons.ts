import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
// A reporter run that dies (action timeout, deployment restart) keeps its lease; after the
// lease this restarts reporting so no event waits forever.
crons.interval("outbox watchdog", { minutes: 1 }, internal.outbox.watchdog, {});
export default crons;
