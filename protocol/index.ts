/** baton's wire vocabulary, shared by the gateway, the room and the client SDK. */
export * from "./close-codes.ts";
export * from "./error-codes.ts";
export * from "./json-depth.ts";
export * from "./messages.ts";
export * from "./paths.ts";
