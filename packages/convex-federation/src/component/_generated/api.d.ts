/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as inbound from "../inbound.js";
import type * as lib from "../lib.js";
import type * as model_gateway from "../model/gateway.js";
import type * as model_outbox from "../model/outbox.js";
import type * as model_remoteCache from "../model/remoteCache.js";
import type * as outbox from "../outbox.js";
import type * as resolve from "../resolve.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  inbound: typeof inbound;
  lib: typeof lib;
  "model/gateway": typeof model_gateway;
  "model/outbox": typeof model_outbox;
  "model/remoteCache": typeof model_remoteCache;
  outbox: typeof outbox;
  resolve: typeof resolve;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
