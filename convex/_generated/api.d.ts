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
import type * as federation from "../federation.js";
import type * as http from "../http.js";
import type * as model_blockWrites from "../model/blockWrites.js";
import type * as model_management from "../model/management.js";
import type * as model_pages from "../model/pages.js";
import type * as remote from "../remote.js";

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
  federation: typeof federation;
  http: typeof http;
  "model/blockWrites": typeof model_blockWrites;
  "model/management": typeof model_management;
  "model/pages": typeof model_pages;
  remote: typeof remote;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  federation: import("@kbfed/convex-federation").ComponentApi;
};
