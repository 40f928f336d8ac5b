/** Default card ID rule: 1-64 of A-Z a-z 0-9 _ - (checked in the operator window and again in main). */
export const CARD_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
