// Package livekit is rathaus's side of a LiveKit media server (issue 15):
// the join and admin tokens LiveKit accepts, and the room names and
// identities Element Call computes, so that a caseworker calling from
// Element and the citizen's page land in one LiveKit room.
//
// Tokens are minted here, HS256 over LiveKit's documented claims, rather
// than through github.com/livekit/protocol: that module brings LiveKit's
// protobufs and dependencies for a few lines of JWT.
//
// So far: tokens, room aliases, identities. The Backend (rooms, kicks,
// webhooks) follows.
package livekit
