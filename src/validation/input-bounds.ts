/**
 * Bounds on what an admin request may store: every list and id Enclave keeps has one, so one
 * request cannot grow the store (or an audit entry) without limit. A 400 names the field.
 */
export const MAX_LIST_ENTRIES = 100;
export const MAX_ID_LENGTH = 200;
