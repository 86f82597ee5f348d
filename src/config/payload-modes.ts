/** How much of a request's payload may be kept, least first. The one list config, tables and inputs use. */
export const PAYLOAD_MODES = ["none", "anonymized", "full"] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];

/** The modes that keep something (a consent or a stored payload is never "none"). */
export const RETAINING_MODES = ["anonymized", "full"] as const satisfies readonly PayloadMode[];
