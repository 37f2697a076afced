// The context each encrypted field is bound to (AES-GCM additional data): a ciphertext only
// decrypts in the row and field it was written for. Writers and readers both use these.
export const piiContext = {
  payload: (eventId: string) => `events.payload:${eventId}`,
  member: (companyId: string, userId: string, field: "email" | "name" | "username") =>
    `members.${field}:${companyId}:${userId}`,
};
