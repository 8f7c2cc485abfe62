export const variant = 1;
