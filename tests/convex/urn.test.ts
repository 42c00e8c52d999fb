// URNs read exactly as the gateway reads them: the vectors are federation/urn.py's own answers
// (tests/unit/test_convex_urn_vectors.py keeps the file true to it).
import { describe, expect, test } from "vitest";
import { encodeLocalId, normaliseUrn, UrnError } from "@kbfed/convex-federation";
import vectors from "./vectors/urns.json";

describe("normaliseUrn, against the gateway's answers", () => {
  for (const vector of vectors.vectors as { urn: string; normal?: string; error?: string }[]) {
    test(vector.urn.slice(0, 60), () => {
      if (vector.normal !== undefined) expect(normaliseUrn(vector.urn)).toBe(vector.normal);
      else {
        const refusal = (() => {
          try {
            return normaliseUrn(vector.urn);
          } catch (error) {
            return error;
          }
        })();
        expect(refusal).toBeInstanceOf(UrnError);
        expect((refusal as UrnError).message).toBe(vector.error);
      }
    });
  }
});

test("a local id with a lone surrogate cannot be encoded", () => {
  expect(() => encodeLocalId("a\ud800")).toThrow(/valid Unicode/);
});
