// Package widgetauth signs a Matrix user into a rathaus widget (the OZG
// ticket widget, the video widget, …) and guards the widget's actions.
//
// A widget asks its Matrix client for an OpenID token (widget API
// get_openid) and posts it here with the server name and the room the
// widget was opened in (from the widget's URL template: a hint, never
// identity). The sign-in handler
//
//  1. asks the token's homeserver who it belongs to ([Verifier], satisfied
//     by *openid.Verifier), and insists the answer is a user of the server
//     the widget named;
//  2. refuses rathaus's own users (citizen ghosts, the bot: Options.IsAppserviceUser);
//  3. asks the homeserver of the room ([Rooms], the bot's view in
//     production) whether the user is joined to that room and what power
//     level they have, and lets the widget's [Policy] decide;
//  4. answers with an opaque 256-bit session token, scoped to that user and
//     that room, valid for Options.SessionTTL (10 minutes by default) and
//     renewable only by signing in again.
//
// The widget sends the token as "Authorization: Bearer …" (widgets run in
// iframes of other origins, so there are no cookies). [Auth.Require] and
// [Auth.RequireWith] check it before each action and ask [Rooms] again, so a
// caseworker removed from the room or demoted loses access at once, within
// Options.RecheckTTL (a few seconds of cache) or immediately when internal/app
// calls [Auth.Forget] on a membership or power-level change.
//
// Sessions live in memory only, as SHA-256 hashes of their tokens: a restart
// signs every widget out, and the widget signs in again silently with a new
// OpenID token. Storing ten-minute sessions in the database would add a
// table and writes on every sign-in for nothing a user would notice.
//
// Tokens (OpenID and session) are never logged; refusals are logged at
// info level with the user id and room id.
package widgetauth
