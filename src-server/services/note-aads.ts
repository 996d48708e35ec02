/**
 * The associated data each free text is sealed under (sealText/openText, keys/sealed.ts): it names
 * the row the text belongs to, so a sealed note copied onto another row fails to open.
 */

/** An online break-glass grant's justification. */
export const justificationAad = (grantId: string): string => `break-glass|${grantId}`;

/** An offline grant's justification: bound to the device and the entry's seq. */
export const deviceJustificationAad = (deviceId: string, seq: number | string): string => `break-glass-device|${deviceId}|${seq}`;

/** The reviewer's note on an alert or an online grant. */
export const reviewAad = (id: string): string => `review|${id}`;

/** A disposition's note: bound to its item and to its own (never updated) row id. */
export const dispositionAad = (subject: string, id: string, rowId: string): string => `disposition|${subject}|${id}|${rowId}`;
