import { z } from "zod";

/**
 * Bounds on a JSON schema the engine turns into a grammar (tool parameters, response_format). A
 * schema's size drives grammar compilation time on the thread that serves HTTP (an enum of 10k
 * values stalled the server for seconds), and a repetition count multiplies the grammar.
 */
export const GRAMMAR_SCHEMA_LIMITS = {
  /** Schemas (nodes) in one schema, nested ones included. */
  nodes: 1000,
  /** Nesting depth of schemas. */
  depth: 16,
  /** Values in one enum, branches in one anyOf/oneOf. */
  choices: 256,
  /** Properties of one object. */
  properties: 256,
  /** minItems/maxItems/minLength/maxLength/minProperties/maxProperties. */
  count: 100,
  /** Characters of one property name, enum or const string. */
  chars: 1000,
} as const;

const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);
const COUNT_KEYWORDS = ["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"] as const;
const TEXT_KEYWORDS = ["description", "title", "format", "pattern"] as const;
const SCHEMA_LIST_KEYWORDS = ["anyOf", "oneOf", "prefixItems"] as const;

/** A problem at a position: object keys are named by their index, never by the caller's text. */
export interface SchemaProblem {
  path: (string | number)[];
  message: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isPrimitive = (value: unknown) => value === null || ["string", "number", "boolean"].includes(typeof value);

/**
 * The first thing in `schema` the grammar converter cannot take, or that exceeds the bounds, or
 * null. Checked before node-llama-cpp sees the schema: its converter threw TypeErrors (500s) on
 * `{"enum":"abc"}`, `{"oneOf":5}` or `{"properties":{"a":null}}`, and a grammar llama.cpp cannot
 * parse is printed whole to stderr.
 */
export function grammarSchemaProblem(schema: unknown): SchemaProblem | null {
  const limits = GRAMMAR_SCHEMA_LIMITS;
  let nodes = 0;
  const root = isObject(schema) ? schema : null;
  const definitions = root == null ? {} : { ...(isObject(root.definitions) ? root.definitions : {}), ...(isObject(root.$defs) ? root.$defs : {}) };

  function visit(node: unknown, path: (string | number)[], depth: number): SchemaProblem | null {
    const at = (message: string, ...more: (string | number)[]): SchemaProblem => ({ path: [...path, ...more], message });
    if (!isObject(node)) return at("expected a schema object");
    if (++nodes > limits.nodes) return at(`the schema has more than ${limits.nodes} nested schemas`);
    if (depth > limits.depth) return at(`schemas nest deeper than ${limits.depth} levels`);

    const { type } = node;
    if (type !== undefined) {
      const types = Array.isArray(type) ? type : [type];
      if (types.length === 0 || types.some((t) => typeof t !== "string" || !TYPES.has(t))) return at(`expected one of ${[...TYPES].join(", ")} (or a list of them)`, "type");
    }
    if (node.enum !== undefined) {
      if (!Array.isArray(node.enum) || node.enum.length === 0) return at("expected a non-empty array", "enum");
      if (node.enum.length > limits.choices) return at(`at most ${limits.choices} values`, "enum");
      const index = node.enum.findIndex((value) => !isPrimitive(value) || (typeof value === "string" && value.length > limits.chars));
      if (index >= 0) return at(`expected a string (at most ${limits.chars} characters), number, boolean or null`, "enum", index);
    }
    if (node.const !== undefined && (!isPrimitive(node.const) || (typeof node.const === "string" && node.const.length > limits.chars)))
      return at(`expected a string (at most ${limits.chars} characters), number, boolean or null`, "const");
    for (const keyword of COUNT_KEYWORDS) {
      const value = node[keyword];
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= limits.count)) return at(`expected an integer from 0 to ${limits.count}`, keyword);
    }
    for (const keyword of TEXT_KEYWORDS) if (node[keyword] !== undefined && typeof node[keyword] !== "string") return at("expected a string", keyword);
    if (node.required !== undefined && !(Array.isArray(node.required) && node.required.every((name) => typeof name === "string")))
      return at("expected an array of property names", "required");
    if (node.allOf !== undefined) return at("allOf is not supported; use anyOf or one schema", "allOf");

    if (node.properties !== undefined) {
      if (!isObject(node.properties)) return at("expected an object of schemas", "properties");
      const entries = Object.entries(node.properties);
      if (entries.length > limits.properties) return at(`at most ${limits.properties} properties`, "properties");
      for (const [index, [name, value]] of entries.entries()) {
        if (name.length > limits.chars) return at(`a property name may have at most ${limits.chars} characters`, "properties", index);
        const problem = visit(value, [...path, "properties", index], depth + 1);
        if (problem) return problem;
      }
    }
    if (node.additionalProperties !== undefined && typeof node.additionalProperties !== "boolean") {
      const problem = visit(node.additionalProperties, [...path, "additionalProperties"], depth + 1);
      if (problem) return problem;
    }
    if (node.items !== undefined && typeof node.items !== "boolean") {
      const problem = visit(node.items, [...path, "items"], depth + 1);
      if (problem) return problem;
    }
    for (const keyword of SCHEMA_LIST_KEYWORDS) {
      const list = node[keyword];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0) return at("expected a non-empty array of schemas", keyword);
      if (list.length > limits.choices) return at(`at most ${limits.choices} schemas`, keyword);
      for (const [index, value] of list.entries()) {
        const problem = visit(value, [...path, keyword, index], depth + 1);
        if (problem) return problem;
      }
    }
    if (node.$ref !== undefined) {
      const match = typeof node.$ref === "string" ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(node.$ref) : null;
      if (match == null || !Object.hasOwn(definitions, match[2]!)) return at("expected a reference to a definition in the schema's own $defs", "$ref");
    }
    for (const keyword of ["$defs", "definitions"] as const) {
      const defs = node[keyword];
      if (defs === undefined) continue;
      if (!isObject(defs)) return at("expected an object of schemas", keyword);
      for (const [index, value] of Object.values(defs).entries()) {
        const problem = visit(value, [...path, keyword, index], depth + 1);
        if (problem) return problem;
      }
    }
    return null;
  }

  return visit(schema, [], 0);
}

/** A request field holding such a schema: an object checked by grammarSchemaProblem (a 400 naming the position). */
export const grammarSchemaField = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  const problem = grammarSchemaProblem(schema);
  if (problem != null) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message, params: { code: "invalid_value" } });
});
