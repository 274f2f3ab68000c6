/** A problem with the user's data: the message is one line naming the file or option and the fix. */
export class DataError extends Error {}
