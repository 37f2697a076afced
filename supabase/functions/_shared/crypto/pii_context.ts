// The context each encrypted field is bound to (AES-GCM additional data): a ciphertext only
// decrypts in the row and field it was written for. Writers and readers both use these.
export const piiContext = {
  payload: (eventId: string) => `events.payload:${eventId}`,
  /** A member-written field of one event (the cancellation reason, in the member's own words). */
  event: (eventId: string, field: "cancellation_reason") => `events.${field}:${eventId}`,
  member: (companyId: string, userId: string, field: "email" | "name" | "username") =>
    `members.${field}:${companyId}:${userId}`,
};
