// The origins this build trusts, written by build.mjs (from origins.json for a release):
// change origins.json and run `node extension/build.mjs`, never this file.

/** Where the LinkedIn cookie may go: the API's origins. */
export const API_ORIGINS = Object.freeze(["https://api.example.com"]);
/** Which pages may hand over the app's session: the app's origins. */
export const APP_ORIGINS = Object.freeze(["https://app.example.com"]);
/** A development build (the local stack, the browser walk) may trust plain-http origins. */
export const DEVELOPMENT = false;
