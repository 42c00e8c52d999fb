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
import type * as blocks from "../blocks.js";
import type * as crons from "../crons.js";
import type * as embargo from "../embargo.js";
import type * as http from "../http.js";
import type * as inbound from "../inbound.js";
import type * as model_blockWrites from "../model/blockWrites.js";
import type * as model_bounds from "../model/bounds.js";
import type * as model_contract from "../model/contract.js";
import type * as model_gateway from "../model/gateway.js";
import type * as model_http from "../model/http.js";
import type * as model_outbox from "../model/outbox.js";
import type * as model_pages from "../model/pages.js";
import type * as model_remoteCache from "../model/remoteCache.js";
import type * as model_urn from "../model/urn.js";
import type * as model_validators from "../model/validators.js";
import type * as outbox from "../outbox.js";
import type * as remote from "../remote.js";
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
  blocks: typeof blocks;
  crons: typeof crons;
  embargo: typeof embargo;
  http: typeof http;
  inbound: typeof inbound;
  "model/blockWrites": typeof model_blockWrites;
  "model/bounds": typeof model_bounds;
  "model/contract": typeof model_contract;
  "model/gateway": typeof model_gateway;
  "model/http": typeof model_http;
  "model/outbox": typeof model_outbox;
  "model/pages": typeof model_pages;
  "model/remoteCache": typeof model_remoteCache;
  "model/urn": typeof model_urn;
  "model/validators": typeof model_validators;
  outbox: typeof outbox;
  remote: typeof remote;
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
