import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Node rather than edge-runtime: the tests start a small HTTP gateway stand-in on
    // 127.0.0.1 that the Convex actions reach with real fetch().
    environment: "node",
    include: ["tests/convex/**/*.test.ts"],
    server: { deps: { inline: ["convex-test"] } },
  },
});
