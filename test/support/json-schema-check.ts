/**
 * A checker for the JSON Schema (2020-12) subset zod's toJSONSchema emits, so a test can hold a
 * value against the schema the OpenAPI document publishes rather than the zod one it came from:
 * type, properties, required, additionalProperties, items, anyOf/oneOf/allOf, enum, const,
 * numeric and length bounds, pattern, and $ref into the document's components. Formats are not
 * checked. Returns the problems, each with a JSON path; none when the value fits.
 */
type Schema = Record<string, any> | boolean;

export function checkJsonSchema(value: unknown, schema: Schema, root: Schema, path = "$"): string[] {
  if (schema === true || schema == null) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  if (typeof schema.$ref === "string") {
    const target = schema.$ref.replace(/^#\//, "").split("/").reduce((node: any, key: string) => node?.[key], root);
    if (target == null) return [`${path}: $ref ${schema.$ref} does not resolve`];
    return checkJsonSchema(value, target, root, path);
  }
  const problems: string[] = [];
  const check = (cond: boolean, message: string) => void (cond || problems.push(`${path}: ${message}`));

  if (schema.type != null) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => isType(value, type))) return [`${path}: expected ${types.join(" or ")}, got ${kindOf(value)}`];
  }
  if ("const" in schema) check(JSON.stringify(value) === JSON.stringify(schema.const), `expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum)) check(schema.enum.some((option: unknown) => JSON.stringify(option) === JSON.stringify(value)), `expected one of ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((part: Schema) => checkJsonSchema(value, part, root, path).length === 0)) problems.push(`${path}: fits none of anyOf`);
  if (Array.isArray(schema.oneOf) && schema.oneOf.filter((part: Schema) => checkJsonSchema(value, part, root, path).length === 0).length !== 1) problems.push(`${path}: fits not exactly one of oneOf`);
  for (const part of schema.allOf ?? []) problems.push(...checkJsonSchema(value, part, root, path));

  if (typeof value === "number") {
    if (schema.minimum != null) check(value >= schema.minimum, `below minimum ${schema.minimum}`);
    if (schema.maximum != null) check(value <= schema.maximum, `above maximum ${schema.maximum}`);
    if (schema.exclusiveMinimum != null) check(value > schema.exclusiveMinimum, `not above ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum != null) check(value < schema.exclusiveMaximum, `not below ${schema.exclusiveMaximum}`);
  }
  if (typeof value === "string") {
    if (schema.minLength != null) check([...value].length >= schema.minLength, `shorter than ${schema.minLength}`);
    if (schema.maxLength != null) check([...value].length <= schema.maxLength, `longer than ${schema.maxLength}`);
    if (schema.pattern != null) check(new RegExp(schema.pattern).test(value), `does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems != null) check(value.length >= schema.minItems, `fewer than ${schema.minItems} items`);
    if (schema.maxItems != null) check(value.length <= schema.maxItems, `more than ${schema.maxItems} items`);
    if (schema.items != null) value.forEach((item, index) => problems.push(...checkJsonSchema(item, schema.items, root, `${path}[${index}]`)));
  }
  if (isType(value, "object")) {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) check(name in object, `missing required '${name}'`);
    const properties: Record<string, Schema> = schema.properties ?? {};
    for (const [name, item] of Object.entries(object)) {
      if (name in properties) problems.push(...checkJsonSchema(item, properties[name]!, root, `${path}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property '${name}'`);
      else if (typeof schema.additionalProperties === "object") problems.push(...checkJsonSchema(item, schema.additionalProperties, root, `${path}.${name}`));
    }
    if (schema.propertyNames != null) for (const name of Object.keys(object)) problems.push(...checkJsonSchema(name, schema.propertyNames, root, `${path}{${name}}`));
  }
  return problems;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

const kindOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);
