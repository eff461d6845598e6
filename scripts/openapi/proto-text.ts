/** What the generator reads off descriptors besides their shape: comments, custom options, examples. */
import { fromJson, getOption, hasOption, toJson, type AnyDesc, type DescFile, type DescMessage, type JsonObject, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

/** An OpenAPI / JSON Schema object; the document is plain JSON. */
export type Json = { [key: string]: JsonValue | Json | Json[] | undefined };

/** The leading comment of an element as markdown (a comment's lines without their first space). */
export function commentOf(desc: Exclude<AnyDesc, DescFile>): string {
  const text = getComments(desc).leading ?? "";
  return text
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}

/** The first sentence of a comment, on one line and at most about 100 characters: an operation's summary. */
export function firstSentence(text: string): string {
  const flat = text.split("\n\n")[0].replace(/\s*\n\s*/g, " ");
  const end = flat.search(/\.(\s|$)/);
  const sentence = end < 0 ? flat : flat.slice(0, end + 1);
  if (sentence.length <= 100) return sentence;
  const clause = sentence.search(/[:;,] /);
  return clause > 0 && clause <= 100 ? sentence.slice(0, clause) : `${sentence.slice(0, sentence.lastIndexOf(" ", 97))}…`;
}

/** The value of a custom option (an extension of the *Options messages) in protobuf JSON, or undefined when it is not set. */
export function optionJson(registry: Registry, element: Exclude<AnyDesc, DescFile>, extension: string): JsonObject | undefined {
  const ext = registry.getExtension(extension);
  if (!ext || ext.fieldKind !== "message") return undefined;
  // The extension is found at run time, so its extendee is not known to the type checker.
  const el = element as Parameters<typeof hasOption>[0];
  if (!hasOption(el, ext)) return undefined;
  return toJson(ext.message, getOption(el, ext) as never, { registry }) as JsonObject;
}

/**
 * A message's comment split into its description and its example: the comment's
 * last paragraph, "Example: " (or "Example (a note):") and the message in JSON.
 */
export function splitExample(registry: Registry, message: DescMessage): { description: string; example?: JsonValue } {
  const comment = commentOf(message);
  const marker = /^Example(?: \([^)]*\))?:/m.exec(comment);
  if (!marker) return { description: comment };
  const json = comment.slice(marker.index + marker[0].length);
  let example: JsonValue;
  try {
    example = JSON.parse(json) as JsonValue;
    // Proves the example is a message of this type: every field known, every value of the right type.
    fromJson(message, example, { registry });
  } catch (err) {
    throw new Error(`the Example in the comment of ${message.typeName} is not a ${message.name} in JSON: ${String(err)}`);
  }
  return { description: comment.slice(0, marker.index).trim(), example };
}
