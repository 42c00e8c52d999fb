// What the app calls from its own mutations: one call per change of one of its blocks, in the
// same transaction as the change (a call from a mutation into a component runs inside it).
import { ConvexError, v } from "convex/values";
import { env, mutation, type MutationCtx } from "./_generated/server";
import { checkBlock, type InvalidBlock } from "../shared/bounds";
import { ownAuthority, ownUrn } from "../shared/refs";
import { blockJsonV, eventTypeV, type BlockJson, type EventType } from "../shared/validators";
import { recordEvent } from "./model/outbox";
import { setLinks } from "./model/remoteCache";

/**
 * Records a change of the app's block `blockId` for the gateway: `block` is the block after the
 * change (null for "deleted"). A block the gateway would refuse is refused here with a
 * ConvexError naming every field (the app's mutation fails with it, its change undone); the
 * event carries the references in normal form. Returns the event id.
 */
export const recordChange = mutation({
  args: { type: eventTypeV, blockId: v.string(), block: v.union(blockJsonV, v.null()) },
  returns: v.string(),
  handler: async (ctx, change) => await record(ctx, change),
});

/** recordChange's work, on any mutation context (the tests watch what it touches). */
export async function record(
  ctx: MutationCtx,
  { type, blockId, block }: { type: EventType; blockId: string; block: BlockJson | null },
): Promise<string> {
  if ((type === "deleted") !== (block === null)) {
    throw new ConvexError({ code: "invalid_change", message: "a deleted block is null, any other change carries the block" });
  }
  if (block !== null && block.id !== blockId) {
    throw new ConvexError({ code: "invalid_change", message: "block.id must equal blockId" });
  }
  const checked = block === null ? null : { ...block, references: checkedReferences(block) };
  const from = ownUrn(blockId, ownAuthority(env.INSTANCE_DOMAIN)) ?? blockId;
  await setLinks(ctx, from, checked?.references ?? []);
  return await recordEvent(ctx, type, blockId, checked);
}

function checkedReferences(block: Parameters<typeof checkBlock>[0]): string[] {
  const result = checkBlock(block);
  if ("errors" in result) throw new ConvexError<InvalidBlock>({ code: "invalid_block", errors: result.errors });
  return result.references;
}
