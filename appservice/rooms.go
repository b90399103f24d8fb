package appservice

import (
	"context"
	"fmt"
	"strings"

	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// StateEvent is a state event for the initial_state of a createRoom
// request.
func StateEvent(t event.Type, key string, content any) *event.Event {
	return &event.Event{Type: t, StateKey: &key, Content: event.Content{Parsed: content}}
}

// SpaceParent is the m.space.parent content rathaus puts in its rooms:
// canonical, reachable through our own server.
func SpaceParent(serverName string) *event.SpaceParentEventContent {
	return &event.SpaceParentEventContent{Via: []string{serverName}, Canonical: true}
}

// SpaceChild is the m.space.child content that links a room into a space
// through our own server.
func SpaceChild(serverName string) *event.SpaceChildEventContent {
	return &event.SpaceChildEventContent{Via: []string{serverName}}
}

// Unlinked is the empty content that removes a space link (m.space.child
// or m.space.parent): the spec treats a link without via as absent.
func Unlinked() map[string]any { return map[string]any{} }

// LinkSpaceChild adds child to space (linked) or removes it from there.
func LinkSpaceChild(ctx context.Context, intent *mauas.IntentAPI, space, child id.RoomID, serverName string, linked bool) error {
	var link any = Unlinked()
	if linked {
		link = SpaceChild(serverName)
	}
	if _, err := intent.SendStateEvent(ctx, space, event.StateSpaceChild, child.String(), link); err != nil {
		return fmt.Errorf("failed to update the link of %s to %s: %w", space, child, err)
	}
	return nil
}

// AliasLocalpart returns the part of "#local:server" between # and the
// first colon (server names may contain colons, localparts may not).
func AliasLocalpart(a id.RoomAlias) string {
	local, _, _ := strings.Cut(strings.TrimPrefix(string(a), "#"), ":")
	return local
}
